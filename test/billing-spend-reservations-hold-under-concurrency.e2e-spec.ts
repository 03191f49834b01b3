import { SpendCounterKeys } from '@torouter/contracts';
import { usdToMicro } from '@torouter/money';
import { Redis } from 'ioredis';
import { Client } from 'pg';
import { REDIS } from '../apps/router/src/tokens';
import {
  callJson,
  createTestAccount,
  eventually,
  startSecondRouter,
  type RouterProcess,
  type TestAccount,
} from './support/second-router';
import { startTestStack, type TestStack } from './support/test-stack';

/**
 * The spend check on the request path: every request reserves its worst-case cost atomically in Redis
 * (one Lua script, shared by every router replica) before going upstream, and the exact cost replaces the
 * hold when it ends. 50 concurrent requests through two router processes against a nearly empty balance
 * or a nearly full key cap spend nothing beyond the limit; a crashed request's hold expires; Redis
 * unreachable → 503, never unchecked spending.
 */
describe('billing: spend reservations under concurrency', () => {
  let stack: TestStack;
  let second: RouterProcess;
  let db: Client;
  let redis: Redis;

  // gpt-5 at $1.25 / $10 per MTok, max_tokens 20: the worst case is 202 micro-USD, the demo answer ~122.
  const chat = (base: string, key: string) =>
    callJson(base, 'POST', '/v1/chat/completions', {
      headers: { authorization: `Bearer ${key}` },
      body: { model: 'gpt-5', max_tokens: 20, messages: [{ role: 'user', content: 'hi' }] },
    });
  const createKey = async (a: TestAccount, body: Record<string, unknown> = {}): Promise<string> => {
    const res = await callJson(stack.url, 'POST', '/api/v1/keys', {
      token: a.token,
      body: { name: 'k', ...body },
    });
    expect(res.status).toBe(201);
    return res.body.key as string;
  };
  const microOf = (res: { body: any }) => usdToMicro(res.body.usage.cost as number);
  /** 50 requests at once, alternating between the two router replicas. */
  const burst = (key: string) =>
    Promise.all(Array.from({ length: 50 }, (_, i) => chat(i % 2 ? second.url : stack.url, key)));
  const settledCount = async (accountId: string) =>
    Number(
      (
        await db.query(`SELECT count(*) AS n FROM billing.usage_settlements WHERE account_id = $1`, [
          accountId,
        ])
      ).rows[0].n,
    );
  const counter = (key: string) => redis.hgetall(`${stack.namespace}:${key}`);

  beforeAll(async () => {
    stack = await startTestStack({ seedDemo: true, env: { BILLING_SIGNUP_CREDIT_USD: '0' } });
    second = await startSecondRouter(stack);
    db = new Client({ connectionString: stack.databaseUrl });
    await db.connect();
    redis = new Redis(stack.env.REDIS_URL);
  });

  afterAll(async () => {
    redis?.disconnect();
    await db?.end();
    await second?.close();
    await stack?.close();
  });

  it('50 concurrent requests on two replicas against a nearly empty balance never spend past it', async () => {
    const a = await createTestAccount(stack, { creditUsd: 0.003 });
    const key = await createKey(a);
    const results = await burst(key);
    const ok = results.filter((r) => r.status === 200);
    const refused = results.filter((r) => r.status !== 200);
    expect(ok.length).toBeGreaterThan(0);
    expect(refused.length).toBeGreaterThan(0); // 50 answers at ~122 µUSD would be 6100 µUSD > 3000
    for (const r of refused) {
      expect(r.status).toBe(402);
      expect(r.body.error.code).toBe('INSUFFICIENT_BALANCE');
    }
    const spent = ok.reduce((s, r) => s + microOf(r), 0);
    expect(spent).toBeLessThanOrEqual(3000);

    // Settlement: the ledger charges exactly what the admitted requests cost; nothing stays reserved.
    await eventually(async () => (await settledCount(a.id)) === ok.length, 30_000);
    const row = await db.query(
      `SELECT balance_micro, (SELECT coalesce(sum(amount_micro), 0) FROM billing.ledger_entries
         WHERE account_id = $1 AND kind = 'usage_charge') AS usage FROM billing.accounts WHERE account_id = $1`,
      [a.id],
    );
    expect(Number(row.rows[0].usage)).toBe(-spent);
    expect(Number(row.rows[0].balance_micro)).toBe(3000 - spent);
    expect(Number(row.rows[0].balance_micro)).toBeGreaterThanOrEqual(0);
    const state = await counter(SpendCounterKeys.account(a.id));
    expect(state).toMatchObject({ v: String(3000 - spent), r: '0' });
    const balance = (await callJson(stack.url, 'GET', '/api/v1/billing/balance', { token: a.token })).body;
    expect(balance).toMatchObject({ balanceUsd: (3000 - spent) / 1e6, reservedUsd: 0 });
  });

  it('50 concurrent requests on two replicas against a nearly full key cap never spend past it', async () => {
    const a = await createTestAccount(stack, { creditUsd: 10 });
    const key = await createKey(a, { quotaUsd: 0.004 });
    // Fill most of the cap first, and let it settle.
    let before = 0;
    for (let i = 0; i < 20; i++) {
      const r = await chat(stack.url, key);
      expect(r.status).toBe(200);
      before += microOf(r);
    }
    await eventually(async () => (await settledCount(a.id)) === 20, 30_000);

    const results = await burst(key);
    const ok = results.filter((r) => r.status === 200);
    for (const r of results.filter((x) => x.status !== 200)) {
      expect(r.status).toBe(402);
      expect(r.body.error.code).toBe('API_KEY_QUOTA_EXHAUSTED');
    }
    expect(ok.length).toBeLessThan(50);
    const total = before + ok.reduce((s, r) => s + microOf(r), 0);
    expect(total).toBeLessThanOrEqual(4000);

    await eventually(async () => (await settledCount(a.id)) === 20 + ok.length, 30_000);
    const keyRow = await db.query(`SELECT key_id, spent_micro FROM billing.key_spend WHERE account_id = $1`, [
      a.id,
    ]);
    expect(keyRow.rows).toHaveLength(1);
    expect(Number(keyRow.rows[0].spent_micro)).toBe(total);
    // The key's own view (keys service) shows the same spend.
    const shown = await eventually(async () => {
      const k = await callJson(stack.url, 'GET', `/api/v1/keys/${keyRow.rows[0].key_id}`, { token: a.token });
      return k.body.spentUsd === total / 1e6 ? k.body : null;
    });
    expect(shown.remainingQuotaUsd).toBeCloseTo((4000 - total) / 1e6, 6);
    const state = await counter(SpendCounterKeys.key(keyRow.rows[0].key_id));
    expect(state).toMatchObject({ v: String(total), r: '0' });
  });

  it("a crashed request's hold expires; until then it counts", async () => {
    const a = await createTestAccount(stack, { creditUsd: 0.001 });
    const key = await createKey(a);
    expect((await chat(stack.url, key)).status).toBe(200);
    await eventually(async () => (await settledCount(a.id)) === 1);
    const c = `${stack.namespace}:${SpendCounterKeys.account(a.id)}`;
    // A router died holding the whole balance: its hold is in Redis with an expiry in the future…
    const { v } = await redis.hgetall(c);
    const t = await redis.time();
    const nowMs = Number(t[0]) * 1000 + Math.floor(Number(t[1]) / 1000);
    await redis
      .multi()
      .hincrby(c, 'r', Number(v))
      .hset(`${c}:a`, 'crashed', v)
      .zadd(`${c}:z`, nowMs + 600_000, 'crashed')
      .exec();
    const held = await chat(stack.url, key);
    expect(held.status).toBe(402);
    expect(
      (await callJson(stack.url, 'GET', '/api/v1/billing/balance', { token: a.token })).body.reservedUsd,
    ).toBe(Number(v) / 1e6);
    // …and once it expires, the money is available again.
    await redis.zadd(`${c}:z`, nowMs - 1, 'crashed');
    expect((await chat(second.url, key)).status).toBe(200);
    expect(await redis.hexists(`${c}:a`, 'crashed')).toBe(0);
  });

  it('reloads the counters from Postgres when Redis has lost them', async () => {
    const a = await createTestAccount(stack, { creditUsd: 0.01 });
    const key = await createKey(a);
    expect((await chat(stack.url, key)).status).toBe(200);
    await eventually(async () => (await settledCount(a.id)) === 1);
    const c = `${stack.namespace}:${SpendCounterKeys.account(a.id)}`;
    const before = await redis.hget(c, 'v');
    await redis.del(c, `${c}:a`, `${c}:z`);
    expect((await chat(second.url, key)).status).toBe(200);
    expect(await redis.hget(c, 'ver')).not.toBeNull();
    await eventually(async () => (await settledCount(a.id)) === 2);
    const balance = (
      await db.query(`SELECT balance_micro FROM billing.accounts WHERE account_id = $1`, [a.id])
    ).rows[0];
    await eventually(async () => (await redis.hget(c, 'v')) === String(balance.balance_micro));
    expect(Number(balance.balance_micro)).toBeLessThan(Number(before));
  });

  it('fails closed with 503 service_unavailable while the router cannot reach Redis', async () => {
    const a = await createTestAccount(stack, { creditUsd: 1 });
    const key = await createKey(a);
    expect((await chat(stack.url, key)).status).toBe(200);
    const routerRedis = stack.router.app.get<Redis>(REDIS);
    routerRedis.disconnect();
    await eventually(async () => routerRedis.status === 'end');
    try {
      const res = await chat(stack.url, key);
      expect(res.status).toBe(503);
      expect(res.body.error.code).toBe('service_unavailable');
    } finally {
      await routerRedis.connect();
    }
    expect((await chat(stack.url, key)).status).toBe(200);
  });
});
