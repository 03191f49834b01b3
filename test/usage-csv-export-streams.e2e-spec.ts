import { signSessionToken } from '@torouter/session-token';
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import v8 from 'node:v8';
import vm from 'node:vm';
import { Client } from 'pg';
import { startTestStack, type TestStack } from './support/test-stack';

const ROWS = 100_000;
const OTHER_ROWS = 2_000;
/** A long key name makes the file (~35 MB) far larger than every socket buffer between server and client. */
const KEY_NAME = `ci-batch-${'x'.repeat(110)}`;

/** Seeds request-log rows straight into the usage schema, one second apart, newest `endAgoSeconds` ago. */
async function seedRows(client: Client, accountId: string, keyId: string, count: number, prefix: string) {
  await client.query(
    `INSERT INTO "usage"."request_logs" (
       "request_id", "created_at", "finished_at", "account_id", "key_id", "key_name", "plan_id", "requested_model",
       "model", "channel_id", "channel_name", "attempts", "surface", "endpoint", "stream", "status", "http_status",
       "error_code", "usage_source", "input_tokens", "cache_read_tokens", "cache_write_5m_tokens",
       "cache_write_1h_tokens", "output_tokens", "reasoning_tokens", "cost_micro_usd", "list_cost_micro_usd",
       "price", "latency_ms", "ttft_ms", "client_ip")
     SELECT $1 || lpad(g::text, 7, '0'),
            date_trunc('milliseconds', now()) - make_interval(secs => $4 - g),
            date_trunc('milliseconds', now()) - make_interval(secs => $4 - g) + interval '1 second',
            $2, $3, $5, NULL, 'gpt-5', 'gpt-5', NULL, 'demo', '[]', 'openai', '/v1/chat/completions', g % 2 = 0,
            'success', 200, NULL, 'upstream', 1000 + g % 100, 0, 0, 0, 200, 0, 3600 + g % 7, 3600, '{}', 900, NULL,
            '198.51.100.4'
       FROM generate_series(1, $4::int) AS g`,
    [prefix, accountId, keyId, count, KEY_NAME],
  );
}

/** A full GC on demand, so what the process retains can be told apart from garbage not yet collected. */
function collectGarbage(): () => void {
  v8.setFlagsFromString('--expose-gc');
  return vm.runInNewContext('gc') as () => void;
}

/** Heap plus Buffer memory still reachable after a full GC. */
function retained(gc: () => void): number {
  gc();
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
}

async function metric(stack: TestStack, name: string, labels = ''): Promise<number> {
  const text = await (await fetch(`${stack.services.usage.httpUrl}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name}{`) && l.includes(labels));
  return line ? Number(line.split(' ').pop()) : 0;
}

async function until(check: () => Promise<boolean>, what: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('CSV export streams any number of rows in constant memory', () => {
  let stack: TestStack;
  let db: Client;
  let token: string;
  const keyId = randomUUID();

  beforeAll(async () => {
    stack = await startTestStack();
    const accountId = stack.demo!.account.id;
    token = await signSessionToken({ sub: accountId, role: 'user', epoch: 0 }, stack.env.TOROUTER_SECRET);
    db = new Client({ connectionString: stack.databaseUrl });
    await db.connect();
    await seedRows(db, accountId, keyId, ROWS, 'req_mine_');
    await seedRows(db, randomUUID(), randomUUID(), OTHER_ROWS, 'req_other_');
    await db.query(`ANALYZE "usage"."request_logs"`);
  }, 180_000);

  afterAll(async () => {
    await db?.end();
    await stack?.close();
  });

  it('sends all 100k rows once, oldest first, as usage-<start>_<end>.csv, and only the caller’s', async () => {
    const today = new Date().toISOString().slice(0, 10);
    const from = new Date(Date.now() - 3 * 86_400_000).toISOString().slice(0, 10);
    const res = await fetch(`${stack.url}/api/v1/usage/export.csv?from=${from}&to=${today}`, {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-disposition')).toBe(`attachment; filename="usage-${from}_${today}.csv"`);
    expect(res.headers.get('transfer-encoding')).toBe('chunked');

    const reader = res.body!.getReader();
    const decoder = new TextDecoder();
    let carry = '';
    let lines = 0;
    let bytes = 0;
    let header = '';
    let first = '';
    let last = '';
    let previousId = '';
    let ordered = true;
    const gc = collectGarbage();
    const baseline = retained(gc);
    let peak = 0;
    let nextSample = 0;
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      bytes += value.byteLength;
      const text = carry + decoder.decode(value, { stream: true });
      const parts = text.split('\n');
      carry = parts.pop()!;
      for (const line of parts) {
        if (lines === 0) header = line;
        else {
          const id = line.slice(0, line.indexOf(','));
          if (lines === 1) first = line;
          if (id <= previousId || !id.startsWith('req_mine_')) ordered = false;
          previousId = id;
          last = line;
        }
        lines += 1;
      }
      if (lines >= nextSample) {
        // Router, usage service and client all live in this process: sample what they hold every 5k rows.
        peak = Math.max(peak, retained(gc) - baseline);
        nextSample += 5000;
      }
    }
    expect(carry).toBe('');
    expect(lines).toBe(ROWS + 1);
    expect(header.split(',')).toEqual(
      expect.arrayContaining(['request_id', 'created_at', 'key_name', 'cost_usd']),
    );
    expect(first.startsWith('req_mine_0000001,')).toBe(true);
    expect(last.startsWith(`req_mine_${String(ROWS).padStart(7, '0')},`)).toBe(true);
    expect(ordered).toBe(true);
    expect(await metric(stack, 'torouter_usage_exports_total', 'result="completed"')).toBe(1);
    process.stdout.write(
      `CSV export: ${ROWS} rows, ${(bytes / 1e6).toFixed(1)} MB; peak retained growth ${(peak / 1e6).toFixed(1)} MB\n`,
    );
    // Flat: what the process holds while streaming stays far below the file's size (buffering it anywhere
    // — usage, NATS, router — would hold at least the whole file).
    expect(bytes).toBeGreaterThan(25e6);
    expect(peak).toBeLessThan(12e6);
  }, 120_000);

  it('stops reading the database while the client stops reading, and closes the cursor when it leaves', async () => {
    const exportedBefore = await metric(stack, 'torouter_usage_export_rows_total');
    const abortedBefore = await metric(stack, 'torouter_usage_exports_total', 'result="aborted"');
    const url = new URL(`${stack.url}/api/v1/usage/export.csv`);
    const res = await new Promise<http.IncomingMessage>((resolve, reject) => {
      http.get(url, { headers: { authorization: `Bearer ${token}` } }, resolve).on('error', reject);
    });
    expect(res.statusCode).toBe(200);
    await new Promise<void>((resolve) => res.once('data', () => resolve()));
    res.pause();

    // With the client not reading, the exporter fills the socket buffers and then waits: the row count
    // stops moving well short of the total.
    let previous = -1;
    let exported = 0;
    await until(async () => {
      await new Promise((r) => setTimeout(r, 500));
      exported = (await metric(stack, 'torouter_usage_export_rows_total')) - exportedBefore;
      const stable = exported === previous;
      previous = exported;
      return stable;
    }, 'the export to stall behind the paused client');
    expect(exported).toBeGreaterThan(0);
    expect(exported).toBeLessThan(ROWS * 0.6);
    expect(await metric(stack, 'torouter_usage_exports_in_progress')).toBe(1);

    res.destroy();
    await until(
      async () =>
        (await metric(stack, 'torouter_usage_exports_total', 'result="aborted"')) === abortedBefore + 1,
      'the export to notice the client left',
    );
    expect(await metric(stack, 'torouter_usage_exports_in_progress')).toBe(0);
    const open = await db.query(
      `SELECT count(*)::int AS n FROM pg_stat_activity
        WHERE datname = current_database() AND state LIKE 'idle in transaction%'`,
    );
    expect(open.rows[0].n).toBe(0);
  }, 120_000);

  it('neutralises spreadsheet formulas in user-controlled cells', async () => {
    const evilKey = randomUUID();
    await db.query(
      `INSERT INTO "usage"."request_logs" (
         "request_id", "created_at", "finished_at", "account_id", "key_id", "key_name", "requested_model", "model",
         "surface", "endpoint", "stream", "status", "http_status", "usage_source", "input_tokens",
         "cache_read_tokens", "cache_write_5m_tokens", "cache_write_1h_tokens", "output_tokens", "reasoning_tokens",
         "cost_micro_usd", "list_cost_micro_usd", "price", "latency_ms", "client_ip")
       VALUES ('req_formula', date_trunc('milliseconds', now()), now(), $1, $2, '=HYPERLINK("http://x.test","y")',
               'gpt-5', 'gpt-5', 'openai', '/v1/chat/completions', false, 'success', 200, 'upstream', 1, 0, 0, 0, 1, 0,
               1, 1, '{}', 10, '198.51.100.4')`,
      [stack.demo!.account.id, evilKey],
    );
    const res = await fetch(`${stack.url}/api/v1/usage/export.csv?keyId=${evilKey}`, {
      headers: { authorization: `Bearer ${token}` },
    });
    const [, row] = (await res.text()).trim().split('\n');
    expect(row).toContain(`"'=HYPERLINK(""http://x.test"",""y"")"`);
  });
});
