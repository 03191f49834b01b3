import {
  Consumers,
  streamName,
  Streams,
  Subjects,
  type UsageDashboard,
  type UsageLogsPage,
  type UsageLogView,
  type OperatorUsageLogView,
  type UsageRecordedEvent,
  type UsageSummary,
  type UsageChannelStatsView,
} from '@torouter/contracts';
import { publishDurable, RpcClient } from '@torouter/messaging';
import { usdToMicro } from '@torouter/money';
import { signSessionToken } from '@torouter/session-token';
import { connect, type NatsConnection } from 'nats';
import { randomUUID } from 'node:crypto';
import { PartitionMaintenanceService } from '../apps/usage/src/partitions/partition-maintenance.service';
import { startTestStack, type TestStack } from './support/test-stack';

const HOUR = 3_600_000;
const keyA1 = randomUUID();
const keyA2 = randomUUID();
const keyB = randomUUID();
const chA = randomUUID();
const chB = randomUUID();

const price = {
  input: 2_000_000,
  output: 8_000_000,
  cacheRead: 500_000,
  cacheWrite5m: 2_500_000,
  cacheWrite1h: 4_000_000,
  perRequest: 0,
  multiplierBp: 10_000,
};

function usageEvent(accountId: string, at: Date, over: Partial<UsageRecordedEvent>): UsageRecordedEvent {
  const latencyMs = over.latencyMs ?? 800;
  return {
    requestId: `req_${randomUUID().replace(/-/g, '')}`,
    accountId,
    keyId: keyA1,
    keyName: 'primary',
    planId: null,
    requestedModel: 'gpt-5',
    model: 'gpt-5',
    channelId: chB,
    channelName: 'chan-b',
    attempts: [],
    surface: 'openai',
    endpoint: '/v1/chat/completions',
    stream: false,
    status: 'success',
    httpStatus: 200,
    errorCode: null,
    usageSource: 'upstream',
    inputTokens: 100,
    cacheReadTokens: 0,
    cacheWrite5mTokens: 0,
    cacheWrite1hTokens: 0,
    outputTokens: 50,
    reasoningTokens: 0,
    costMicroUsd: 600,
    price,
    reservationId: null,
    reservedMicroUsd: 0,
    startedAt: at.toISOString(),
    finishedAt: new Date(at.getTime() + latencyMs).toISOString(),
    latencyMs,
    ttftMs: null,
    clientIp: '203.0.113.7',
    ...over,
  };
}

async function eventually<T>(
  probe: () => Promise<T | undefined>,
  what: string,
  timeoutMs = 15_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const micro = (usd: number) => usdToMicro(usd);

describe('usage events become request logs, summaries and a dashboard', () => {
  let stack: TestStack;
  let nc: NatsConnection;
  let rpc: RpcClient;
  let accountA: string;
  let accountB: string;
  let tokenA: string;
  let tokenB: string;
  const eventsA: UsageRecordedEvent[] = [];
  const eventsB: UsageRecordedEvent[] = [];
  const t0 = new Date(Math.floor(Date.now() / HOUR) * HOUR - 30 * HOUR);

  const get = async (path: string, token: string) => {
    const res = await fetch(`${stack.url}${path}`, { headers: { authorization: `Bearer ${token}` } });
    return { status: res.status, headers: res.headers, body: await res.text() };
  };
  const json = async <T>(path: string, token: string): Promise<T> => {
    const res = await get(path, token);
    if (res.status !== 200) throw new Error(`${path} → ${res.status} ${res.body}`);
    return JSON.parse(res.body) as T;
  };
  /** Every row a caller can see for a query, following cursors. */
  const allRows = async <T extends UsageLogView>(path: string, token: string): Promise<T[]> => {
    const rows: T[] = [];
    let cursor: string | null = null;
    do {
      const sep = path.includes('?') ? '&' : '?';
      const page: UsageLogsPage<T> = await json<UsageLogsPage<T>>(
        `${path}${sep}limit=2${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
        token,
      );
      rows.push(...page.data);
      cursor = page.nextCursor;
    } while (cursor);
    return rows;
  };
  const consumed = async (result: string): Promise<number> => {
    const text = await (await fetch(`${stack.services.usage.httpUrl}/metrics`)).text();
    const line = text
      .split('\n')
      .find((l) => l.startsWith('torouter_events_consumed_total{') && l.includes(`result="${result}"`));
    return line ? Number(line.split(' ').pop()) : 0;
  };
  const publish = (e: UsageRecordedEvent, msgId = e.requestId) =>
    publishDurable(nc, stack.namespace, Subjects.routerRequestCompleted, e, msgId);

  beforeAll(async () => {
    stack = await startTestStack();
    nc = await connect({ servers: stack.env.NATS_URL });
    rpc = stack.rpc;
    accountA = stack.demo!.account.id;
    const b = await rpc.send(Subjects.authAccountCreate, {
      email: `b-${randomUUID()}@example.com`,
      password: 'correct horse battery',
      emailVerified: true,
    });
    accountB = b.id;
    tokenA = await signSessionToken({ sub: accountA, role: 'user', epoch: 0 }, stack.env.TOROUTER_SECRET);
    tokenB = await signSessionToken({ sub: accountB, role: 'user', epoch: 0 }, stack.env.TOROUTER_SECRET);

    const m = (min: number) => new Date(t0.getTime() + min * 60_000);
    eventsA.push(
      usageEvent(accountA, m(10), {
        inputTokens: 1000,
        outputTokens: 200,
        cacheReadTokens: 300,
        cacheWrite5mTokens: 50,
        cacheWrite1hTokens: 25,
        reasoningTokens: 20,
        costMicroUsd: 12_345,
        stream: true,
        ttftMs: 150,
        latencyMs: 2100,
      }),
      usageEvent(accountA, m(70), {
        keyId: keyA2,
        keyName: 'second',
        model: 'claude-opus-4-7',
        requestedModel: 'claude-opus-4-7',
        surface: 'anthropic',
        endpoint: '/v1/messages',
        costMicroUsd: 500_000,
        channelId: chA,
        channelName: 'chan-a',
      }),
      usageEvent(accountA, m(130), {
        status: 'error',
        httpStatus: 504,
        errorCode: 'upstream_timeout',
        inputTokens: 0,
        outputTokens: 0,
        costMicroUsd: 0,
        channelId: null,
        channelName: null,
        attempts: [
          { channelId: chA, channelName: 'chan-a', outcome: 'timeout', httpStatus: null },
          { channelId: chB, channelName: 'chan-b', outcome: 'error', httpStatus: 500 },
        ],
      }),
      usageEvent(accountA, m(25 * 60 + 5), {
        keyId: keyA2,
        keyName: 'second',
        status: 'cancelled',
        httpStatus: 499,
        costMicroUsd: 777,
      }),
      usageEvent(accountA, m(26 * 60 + 30), {
        costMicroUsd: 9_000,
        inputTokens: 1000,
        outputTokens: 500,
        price: { ...price, multiplierBp: 15_000 },
        attempts: [
          { channelId: chA, channelName: 'chan-a', outcome: 'rate_limited', httpStatus: 429 },
          { channelId: chB, channelName: 'chan-b', outcome: 'success', httpStatus: 200 },
        ],
      }),
    );
    eventsB.push(
      usageEvent(accountB, m(20), { keyId: keyB, keyName: 'b-key', costMicroUsd: 4_000 }),
      usageEvent(accountB, m(90), {
        keyId: keyB,
        keyName: 'b-key',
        costMicroUsd: 1_000,
        model: 'gemini-2.5-pro',
      }),
    );
    for (const e of [...eventsA, ...eventsB]) await publish(e);
    await eventually(async () => {
      const page = await json<UsageLogsPage>('/api/v1/admin/usage/logs?limit=200', stack.adminToken);
      return page.data.length === eventsA.length + eventsB.length ? true : undefined;
    }, 'every event to become a row');
  }, 120_000);

  afterAll(async () => {
    await nc?.close();
    await stack?.close();
  });

  it('records each event as a row with its tokens, cost and timing, and never a prompt', async () => {
    const e = eventsA[0];
    const rows = await allRows('/api/v1/usage/logs', tokenA);
    const row = rows.find((r) => r.requestId === e.requestId)!;
    expect(row).toEqual({
      requestId: e.requestId,
      createdAt: e.startedAt,
      keyId: keyA1,
      keyName: 'primary',
      model: 'gpt-5',
      requestedModel: 'gpt-5',
      channelName: 'chan-b',
      endpoint: '/v1/chat/completions',
      status: 'success',
      httpStatus: 200,
      inputTokens: 1000,
      cacheReadTokens: 300,
      cacheWrite5mTokens: 50,
      cacheWrite1hTokens: 25,
      outputTokens: 200,
      reasoningTokens: 20,
      costUsd: 0.012345,
      latencyMs: 2100,
      ttftMs: 150,
      stream: true,
      retries: 0,
      clientIp: '203.0.113.7',
    });
  });

  it('shows failed requests with their error and zero spend', async () => {
    const page = await json<UsageLogsPage>('/api/v1/usage/logs?status=error', tokenA);
    expect(page.data.map((r) => [r.requestId, r.errorCode, r.costUsd, r.retries])).toEqual([
      [eventsA[2].requestId, 'upstream_timeout', 0, 1],
    ]);
  });

  it('pages newest first with a cursor, without gaps or repeats, and filters by key, model and time', async () => {
    const rows = await allRows('/api/v1/usage/logs', tokenA);
    const newestFirst = [...eventsA]
      .sort((a, b) => b.startedAt.localeCompare(a.startedAt))
      .map((e) => e.requestId);
    expect(rows.map((r) => r.requestId)).toEqual(newestFirst);

    const byKey = await allRows(`/api/v1/usage/logs?keyId=${keyA2}`, tokenA);
    expect(byKey.map((r) => r.requestId).sort()).toEqual([eventsA[1].requestId, eventsA[3].requestId].sort());
    const byModel = await allRows('/api/v1/usage/logs?model=gpt-5', tokenA);
    expect(byModel).toHaveLength(4);
    const from = new Date(t0.getTime() + 60 * 60_000).toISOString();
    const to = new Date(t0.getTime() + 25 * HOUR).toISOString();
    const windowed = await allRows(`/api/v1/usage/logs?from=${from}&to=${to}`, tokenA);
    expect(windowed.map((r) => r.requestId).sort()).toEqual(
      [eventsA[1].requestId, eventsA[2].requestId].sort(),
    );
  });

  it('answers bad queries with 400 naming the parameter, and no session with 401', async () => {
    const cases: Array<[string, RegExp]> = [
      ['/api/v1/usage/logs?from=yesterday', /^from:/],
      ['/api/v1/usage/logs?limit=5000', /^limit:/],
      ['/api/v1/usage/logs?keyId=nope', /^keyId:/],
      ['/api/v1/usage/logs?cursor=garbage', /^cursor:/],
      ['/api/v1/usage/logs?from=2025-02-01&to=2025-01-01', /^to:/],
      ['/api/v1/usage/summary?groupBy=account', /^groupBy:/],
      ['/api/v1/usage/summary?groupBy=hour&from=2025-01-01&to=2025-06-01', /^from:/],
      ['/api/v1/usage/dashboard?range=90d', /^range:/],
      ['/api/v1/usage/export.csv?status=weird', /^status:/],
    ];
    for (const [path, field] of cases) {
      const res = await get(path, tokenA);
      expect({ path, status: res.status }).toEqual({ path, status: 400 });
      const body = JSON.parse(res.body) as { error: { code: string; message: string } };
      expect(body.error.code).toBe('validation_failed');
      expect(body.error.message).toMatch(field);
    }
    expect((await get('/api/v1/usage/logs', '')).status).toBe(401);
    expect((await get('/api/v1/admin/usage/logs', tokenA)).status).toBe(403);
  });

  it('adds summaries up to the rows, for aligned and unaligned windows and every grouping', async () => {
    const windows = [
      {
        from: new Date(t0.getTime() + 5 * 60_000).toISOString(),
        to: new Date(Date.now() + HOUR).toISOString(),
      },
      { from: t0.toISOString().slice(0, 10), to: new Date().toISOString().slice(0, 10) },
      {
        from: new Date(t0.getTime() + 65 * 60_000).toISOString(),
        to: new Date(t0.getTime() + 26 * HOUR + 45 * 60_000).toISOString(),
      },
    ];
    for (const w of windows) {
      const q = `from=${encodeURIComponent(w.from)}&to=${encodeURIComponent(w.to)}`;
      const rows = await allRows(`/api/v1/usage/logs?${q}`, tokenA);
      const expectTotals = (rs: UsageLogView[]) => ({
        requests: rs.filter((r) => r.status === 'success').length,
        failedRequests: rs.filter((r) => r.status === 'error').length,
        cancelledRequests: rs.filter((r) => r.status === 'cancelled').length,
        inputTokens: rs.reduce((s, r) => s + r.inputTokens, 0),
        outputTokens: rs.reduce((s, r) => s + r.outputTokens, 0),
        cacheReadTokens: rs.reduce((s, r) => s + r.cacheReadTokens, 0),
        cacheWriteTokens: rs.reduce((s, r) => s + r.cacheWrite5mTokens + r.cacheWrite1hTokens, 0),
        reasoningTokens: rs.reduce((s, r) => s + r.reasoningTokens, 0),
        costMicro: rs.reduce((s, r) => s + micro(r.costUsd), 0),
      });
      const asExpected = (t: UsageSummary['groups'][number] | UsageSummary['totals']) => {
        const { costUsd, key: _key, keyName: _name, ...rest } = t as UsageSummary['groups'][number];
        return { ...rest, costMicro: micro(costUsd) };
      };
      const groupers: Record<string, (r: UsageLogView) => string> = {
        day: (r) => r.createdAt.slice(0, 10),
        hour: (r) => `${r.createdAt.slice(0, 13)}:00:00.000Z`,
        model: (r) => r.model,
        key: (r) => r.keyId,
      };
      for (const [groupBy, keyOf] of Object.entries(groupers)) {
        const summary = await json<UsageSummary>(`/api/v1/usage/summary?groupBy=${groupBy}&${q}`, tokenA);
        expect({ w, groupBy, totals: asExpected(summary.totals) }).toEqual({
          w,
          groupBy,
          totals: expectTotals(rows),
        });
        const expectedGroups = new Map<string, UsageLogView[]>();
        for (const r of rows) expectedGroups.set(keyOf(r), [...(expectedGroups.get(keyOf(r)) ?? []), r]);
        const got = Object.fromEntries(summary.groups.map((g) => [g.key, asExpected(g)]));
        const want = Object.fromEntries([...expectedGroups].map(([k, rs]) => [k, expectTotals(rs)]));
        expect({ w, groupBy, groups: got }).toEqual({ w, groupBy, groups: want });
        expect(summary.truncated).toBe(false);
      }
    }
    const byKey = await json<UsageSummary>('/api/v1/usage/summary?groupBy=key', tokenA);
    expect(byKey.groups.find((g) => g.key === keyA2)?.keyName).toBe('second');
  });

  it('builds the dashboard from the same numbers: daily spend, top models, recent activity', async () => {
    const rows = await allRows('/api/v1/usage/logs', tokenA);
    const dash = await json<UsageDashboard & { balanceUsd: number | null }>(
      '/api/v1/usage/dashboard?range=7d',
      tokenA,
    );
    expect(dash.daily).toHaveLength(7);
    expect(dash.daily[6].date).toBe(new Date().toISOString().slice(0, 10));
    expect(micro(dash.totals.spendUsd)).toBe(rows.reduce((s, r) => s + micro(r.costUsd), 0));
    expect(dash.totals.requests).toBe(rows.length);
    expect(dash.totals.failedRequests).toBe(1);
    for (const day of dash.daily) {
      const ofDay = rows.filter((r) => r.createdAt.startsWith(day.date));
      expect({ day: day.date, spend: micro(day.spendUsd), requests: day.requests }).toEqual({
        day: day.date,
        spend: ofDay.reduce((s, r) => s + micro(r.costUsd), 0),
        requests: ofDay.length,
      });
    }
    expect(dash.topModels.map((m) => m.model)).toEqual(['claude-opus-4-7', 'gpt-5']);
    expect(dash.topModels[1]).toEqual({
      model: 'gpt-5',
      spendUsd: (12_345 + 777 + 9_000) / 1e6,
      requests: 4,
    });
    expect(dash.recentActivity[0].requestId).toBe(rows[0].requestId);

    const balance = await rpc.send(Subjects.billingBalanceGet, { accountId: accountA }).catch(() => null);
    expect(dash.balanceUsd).toBe(balance ? balance.balanceUsd : null);

    const month = await json<UsageDashboard>('/api/v1/usage/dashboard?range=30d', tokenA);
    expect(month.daily).toHaveLength(30);
    expect(month.totals).toEqual(dash.totals);
  });

  it('writes one row for an event delivered twice, and leaves the rollups alone', async () => {
    const before = await json<UsageSummary>('/api/v1/usage/summary', tokenA);
    const duplicatesBefore = await consumed('duplicate');
    // A different message id gets past JetStream's de-duplication: only the database can stop it now.
    await publish(eventsA[0], `${eventsA[0].requestId}-replayed`);
    await eventually(
      async () => ((await consumed('duplicate')) > duplicatesBefore ? true : undefined),
      'replay',
    );
    const rows = await allRows('/api/v1/usage/logs', tokenA);
    expect(rows.filter((r) => r.requestId === eventsA[0].requestId)).toHaveLength(1);
    expect(await json<UsageSummary>('/api/v1/usage/summary', tokenA)).toEqual(before);
  });

  it('shows another account none of these rows, whatever it asks', async () => {
    const aIds = new Set(eventsA.map((e) => e.requestId));
    const rowsB = await allRows('/api/v1/usage/logs', tokenB);
    expect(rowsB.map((r) => r.requestId).sort()).toEqual(eventsB.map((e) => e.requestId).sort());
    expect(await allRows(`/api/v1/usage/logs?keyId=${keyA1}`, tokenB)).toEqual([]);
    const summary = await json<UsageSummary>('/api/v1/usage/summary?groupBy=key', tokenB);
    expect(summary.groups.map((g) => g.key)).toEqual([keyB]);
    expect(micro(summary.totals.costUsd)).toBe(5_000);
    const dash = await json<UsageDashboard>('/api/v1/usage/dashboard', tokenB);
    expect(dash.recentActivity.some((r) => aIds.has(r.requestId))).toBe(false);
    expect(dash.topModels.map((m) => m.model).sort()).toEqual(['gemini-2.5-pro', 'gpt-5']);
    const csv = await get('/api/v1/usage/export.csv', tokenB);
    expect(csv.status).toBe(200);
    for (const id of aIds) expect(csv.body).not.toContain(id);
    expect(csv.body.trim().split('\n')).toHaveLength(1 + eventsB.length);
  });

  it('exports the rows as usage-<start>_<end>.csv with exact costs', async () => {
    const from = t0.toISOString().slice(0, 10);
    const to = new Date().toISOString().slice(0, 10);
    const res = await get(`/api/v1/usage/export.csv?from=${from}&to=${to}`, tokenA);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/csv/);
    expect(res.headers.get('content-disposition')).toBe(`attachment; filename="usage-${from}_${to}.csv"`);
    const [header, ...lines] = res.body.trim().split('\n');
    const cols = header.split(',');
    expect(cols).toContain('cost_usd');
    expect(cols).not.toContain('account_id');
    expect(lines).toHaveLength(eventsA.length);
    const first = lines[0].split(',');
    expect(first[cols.indexOf('request_id')]).toBe(eventsA[0].requestId);
    expect(first[cols.indexOf('cost_usd')]).toBe('0.012345');
    expect(first[cols.indexOf('total_tokens')]).toBe(String(1000 + 300 + 50 + 25 + 200));
  });

  it('gives operators every account, per-account summaries and per-channel error rates and margins', async () => {
    const all = await allRows<OperatorUsageLogView>('/api/v1/admin/usage/logs', stack.adminToken);
    expect(all).toHaveLength(eventsA.length + eventsB.length);
    const onlyB = await allRows<OperatorUsageLogView>(
      `/api/v1/admin/usage/logs?accountId=${accountB}`,
      stack.adminToken,
    );
    expect(onlyB.every((r) => r.accountId === accountB)).toBe(true);
    expect(onlyB).toHaveLength(eventsB.length);
    const failover = all.find((r) => r.requestId === eventsA[4].requestId)!;
    expect(failover.attempts.map((a) => a.outcome)).toEqual(['rate_limited', 'success']);
    expect(micro(failover.listCostUsd)).toBe(6_000);

    const byAccount = await json<UsageSummary>(
      '/api/v1/admin/usage/summary?groupBy=account',
      stack.adminToken,
    );
    expect(Object.fromEntries(byAccount.groups.map((g) => [g.key, micro(g.costUsd)]))).toEqual({
      [accountA]: 12_345 + 500_000 + 777 + 9_000,
      [accountB]: 5_000,
    });

    const stats = await json<UsageChannelStatsView>('/api/v1/admin/usage/channels', stack.adminToken);
    const a = stats.channels.find((c) => c.channelId === chA)!;
    const b = stats.channels.find((c) => c.channelId === chB)!;
    // chan-a: answered one request, failed in two failovers. chan-b: answered 5, failed once.
    expect([a.requests, a.attempts, a.failedAttempts, a.errorRate]).toEqual([1, 3, 2, 0.6667]);
    expect([b.requests, b.attempts, b.failedAttempts]).toEqual([5, 6, 1]);
    expect(micro(b.costUsd) - micro(b.upstreamCostUsd)).toBe(micro(b.marginUsd));
    // Charged minus list price of what chan-b answered: 12345−3975, 777−600, 9000−6000, 4000−600, 1000−600.
    expect(micro(b.marginUsd)).toBe(8_370 + 177 + 3_000 + 3_400 + 400);
    expect((await get('/api/v1/admin/usage/channels', tokenA)).status).toBe(403);
  });

  it('records an event from a month that has no partition yet', async () => {
    const old = usageEvent(accountA, new Date(Date.now() - 200 * 24 * HOUR), { costMicroUsd: 1 });
    await publish(old);
    const since = new Date(Date.now() - 201 * 24 * HOUR).toISOString();
    const until = new Date(Date.now() - 199 * 24 * HOUR).toISOString();
    const rows = await eventually(async () => {
      const page = await json<UsageLogsPage>(`/api/v1/usage/logs?from=${since}&to=${until}`, tokenA);
      return page.data.length ? page.data : undefined;
    }, 'the old event');
    expect(rows.map((r) => r.requestId)).toEqual([old.requestId]);
  });

  it('drops raw rows past retention by whole months and keeps the daily rollups', async () => {
    const window = `from=${t0.toISOString().slice(0, 10)}&to=${new Date().toISOString().slice(0, 10)}`;
    const before = await json<UsageSummary>(`/api/v1/usage/summary?groupBy=model&${window}`, tokenA);
    const maintenance = stack.services.usage.app.get(PartitionMaintenanceService);
    const result = await maintenance.runOnce(new Date(Date.now() + 500 * 24 * HOUR));
    expect(result.dropped.length).toBeGreaterThan(0);
    expect(await allRows('/api/v1/usage/logs', tokenA)).toEqual([]);
    const after = await json<UsageSummary>(`/api/v1/usage/summary?groupBy=model&${window}`, tokenA);
    expect(after).toEqual(before);
  });

  it('shows the dashboard without a balance when billing does not answer', async () => {
    await stack.stopService('billing');
    const res = await get('/api/v1/usage/dashboard', tokenA);
    expect(res.status).toBe(200);
    const dash = JSON.parse(res.body) as UsageDashboard & { balanceUsd: number | null };
    expect(dash.balanceUsd).toBeNull();
    expect(dash.daily).toHaveLength(7);
  });

  it('names its durable consumer as the contract says', async () => {
    const jsm = await nc.jetstreamManager();
    const info = await jsm.consumers.info(
      streamName(stack.namespace, Streams.usage.name),
      Consumers.usageLog,
    );
    expect(info.num_pending).toBe(0);
  });
});
