/**
 * Usage queries at scale: seeds BENCH_ROWS (default 10 000 000) request-log rows into a scratch database
 * with generate_series — one heavy account holding a fifth of them, the rest spread over 10 000 accounts,
 * ~90 days, monthly partitions, rollups aggregated from the rows — then times the usage service's own
 * queries (the same repository and service code the service runs) and prints p50/p99 per query.
 *
 *   npx swc apps libs bench -d dist --quiet && node dist/bench/usage-logs-query.js
 *
 * Env: BENCH_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/torouter_bench_usage; dropped at the
 * end unless BENCH_KEEP=1, and reused without reseeding when it already holds the rows), BENCH_ROWS,
 * BENCH_ITERATIONS (default 200 per query). A benchmark, not a test: nothing here asserts.
 */
import type { UsageScope } from '@torouter/contracts';
import {
  createServiceDataSource,
  dropDatabase,
  ensureDatabase,
  migrateServiceSchema,
} from '@torouter/database';
import { Registry } from 'prom-client';
import { performance } from 'node:perf_hooks';
import type { DataSource } from 'typeorm';
import { UsageMetrics } from '../apps/usage/src/metrics/usage-metrics';
import { usageMigrations } from '../apps/usage/src/migrations';
import { PartitionsRepository } from '../apps/usage/src/partitions/partitions.repository';
import { UsageQueryRepository } from '../apps/usage/src/queries/usage-query.repository';
import { UsageQueryService } from '../apps/usage/src/queries/usage-query.service';

const DATABASE_URL =
  process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/torouter_bench_usage';
const ROWS = Number(process.env.BENCH_ROWS ?? 10_000_000);
const ITERATIONS = Number(process.env.BENCH_ITERATIONS ?? 200);
const KEEP = process.env.BENCH_KEEP === '1';
const ACCOUNTS = 10_000;
const DAYS = 90;
const CHUNK = 500_000;
const MODELS = [
  'gpt-5',
  'gpt-5-mini',
  'gpt-4.1',
  'o3',
  'claude-opus-4-7',
  'claude-sonnet-4-5',
  'claude-haiku-4-5',
  'gemini-2.5-pro',
  'gemini-2.5-flash',
  'deepseek-chat',
  'qwen3-max',
  'kimi-k2',
];
const DAY_MS = 86_400_000;

/** Deterministic ids: account n → uuid with n in its last group; key k of account n likewise. */
const accountId = (n: number) => `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;
const keyIdOf = (account: number, k: number) =>
  `00000000-0000-4000-9${String(k).padStart(3, '0')}-${String(account).padStart(12, '0')}`;
const HEAVY = 0;

function log(message: string): void {
  process.stdout.write(`${new Date().toISOString().slice(11, 19)} ${message}\n`);
}

async function seed(ds: DataSource, now: Date): Promise<void> {
  const start = new Date(now.getTime() - DAYS * DAY_MS);
  const partitions = new PartitionsRepository(ds);
  for (let t = start.getTime(); t <= now.getTime() + 31 * DAY_MS; t += 28 * DAY_MS) {
    await partitions.ensureMonth(new Date(t));
  }
  await partitions.ensureMonth(now);
  const models = `ARRAY[${MODELS.map((m) => `'${m}'`).join(',')}]`;
  // Row g: a fifth go to the heavy account, the rest round-robin over the others; times spread evenly.
  const accountExpr = `CASE WHEN g % 5 = 0 THEN ${HEAVY} ELSE 1 + (g * 7919) % ${ACCOUNTS - 1} END`;
  const spanMs = DAYS * DAY_MS;
  for (let from = 1; from <= ROWS; from += CHUNK) {
    const to = Math.min(ROWS, from + CHUNK - 1);
    const t0 = performance.now();
    await ds.query(
      `INSERT INTO "usage"."request_logs" (
         "request_id", "created_at", "finished_at", "account_id", "key_id", "key_name", "plan_id",
         "requested_model", "model", "channel_id", "channel_name", "attempts", "surface", "endpoint", "stream",
         "status", "http_status", "error_code", "usage_source", "input_tokens", "cache_read_tokens",
         "cache_write_5m_tokens", "cache_write_1h_tokens", "output_tokens", "reasoning_tokens",
         "cost_micro_usd", "list_cost_micro_usd", "price", "latency_ms", "ttft_ms", "client_ip")
       SELECT 'req_' || lpad(g::text, 10, '0'), r.at, r.at + interval '900 milliseconds',
              ('00000000-0000-4000-8000-' || lpad(r.acct::text, 12, '0'))::uuid,
              ('00000000-0000-4000-9' || lpad((g % 3)::text, 3, '0') || '-' || lpad(r.acct::text, 12, '0'))::uuid,
              'key-' || (g % 3), NULL, r.model, r.model, NULL, 'chan-' || (g % 4), '[]', 'openai',
              '/v1/chat/completions', g % 2 = 0, r.status, CASE r.status WHEN 'error' THEN 502 ELSE 200 END,
              CASE r.status WHEN 'error' THEN 'upstream_unavailable' END, 'upstream',
              500 + g % 3000, g % 200, 0, 0, 50 + g % 800, 0,
              CASE r.status WHEN 'error' THEN 0 ELSE 100 + g % 5000 END, 80 + g % 4000, '{}', 300 + g % 5000,
              CASE WHEN g % 2 = 0 THEN 100 + g % 900 END, '198.51.100.' || (g % 250)
         FROM generate_series($1::bigint, $2::bigint) AS g
         CROSS JOIN LATERAL (
           SELECT $3::timestamptz + make_interval(secs => (g::double precision * $4 / $5) / 1000) AS at,
                  ${accountExpr} AS acct,
                  (${models})[1 + (g * 31) % ${MODELS.length}] AS model,
                  CASE WHEN g % 50 = 0 THEN 'error' WHEN g % 100 = 1 THEN 'cancelled' ELSE 'success' END AS status
         ) r`,
      [from, to, start, spanMs, ROWS],
    );
    log(`seeded rows ${from}–${to} in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  }
  const sums = `
    count(*) FILTER (WHERE "status" = 'success'), count(*) FILTER (WHERE "status" = 'error'),
    count(*) FILTER (WHERE "status" = 'cancelled'), sum("input_tokens"), sum("output_tokens"),
    sum("cache_read_tokens"), sum("cache_write_5m_tokens"), sum("cache_write_1h_tokens"), sum("reasoning_tokens"),
    sum("cost_micro_usd"), sum("list_cost_micro_usd")`;
  const totals = `"requests", "failed_requests", "cancelled_requests", "input_tokens", "output_tokens",
    "cache_read_tokens", "cache_write_5m_tokens", "cache_write_1h_tokens", "reasoning_tokens", "cost_micro_usd",
    "list_cost_micro_usd"`;
  let t0 = performance.now();
  await ds.query(
    `INSERT INTO "usage"."usage_daily" ("account_id", "day", "key_id", "model", "key_name", ${totals})
     SELECT "account_id", ("created_at" AT TIME ZONE 'UTC')::date, "key_id", "model", max("key_name"), ${sums}
       FROM "usage"."request_logs" GROUP BY 1, 2, 3, 4`,
  );
  log(`daily rollup in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  t0 = performance.now();
  await ds.query(
    `INSERT INTO "usage"."usage_hourly" ("account_id", "hour", "key_id", "model", "key_name", ${totals})
     SELECT "account_id", date_trunc('hour', "created_at", 'UTC'), "key_id", "model", max("key_name"), ${sums}
       FROM "usage"."request_logs" GROUP BY 1, 2, 3, 4`,
  );
  log(`hourly rollup in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  await ds.query(`VACUUM ANALYZE "usage"."request_logs"`);
  await ds.query(`VACUUM ANALYZE "usage"."usage_daily"`);
  await ds.query(`VACUUM ANALYZE "usage"."usage_hourly"`);
}

interface Result {
  name: string;
  p50: number;
  p99: number;
  max: number;
  rows: number;
}

async function time(name: string, run: (i: number) => Promise<number>): Promise<Result> {
  for (let i = 0; i < 5; i++) await run(i); // warm the cache and the plan
  const samples: number[] = [];
  let rows = 0;
  for (let i = 0; i < ITERATIONS; i++) {
    const t0 = performance.now();
    rows = await run(i);
    samples.push(performance.now() - t0);
  }
  samples.sort((a, b) => a - b);
  const at = (q: number) => samples[Math.min(samples.length - 1, Math.floor(q * samples.length))];
  return { name, p50: at(0.5), p99: at(0.99), max: samples[samples.length - 1], rows };
}

async function main(): Promise<void> {
  await ensureDatabase(DATABASE_URL);
  const ds = createServiceDataSource({
    url: DATABASE_URL,
    schema: 'usage',
    entities: [],
    migrations: usageMigrations,
    poolSize: 4,
  });
  await ds.initialize();
  try {
    await migrateServiceSchema(ds);
    const count = async () =>
      Number(
        (await ds.query<Array<{ n: string }>>(`SELECT count(*)::bigint AS n FROM "usage"."request_logs"`))[0]
          .n,
      );
    let n = await count();
    const now = new Date();
    if (n < ROWS) {
      if (n > 0) throw new Error(`${DATABASE_URL} holds ${n} rows, not ${ROWS}: drop it first`);
      log(`seeding ${ROWS.toLocaleString('en')} rows into ${DATABASE_URL}`);
      await seed(ds, now);
      n = await count();
    } else {
      log(`reusing ${n.toLocaleString('en')} seeded rows`);
    }
    const [{ bounds }] = await ds.query<Array<{ bounds: Date }>>(
      `SELECT max("created_at") AS bounds FROM "usage"."request_logs" WHERE "account_id" = $1`,
      [accountId(HEAVY)],
    );
    const end = new Date(bounds.getTime() + 1);
    const [{ heavy }] = await ds.query<Array<{ heavy: string }>>(
      `SELECT count(*)::bigint AS heavy FROM "usage"."request_logs" WHERE "account_id" = $1`,
      [accountId(HEAVY)],
    );
    const [{ size }] = await ds.query<Array<{ size: string }>>(
      `SELECT pg_size_pretty(sum(pg_total_relation_size(c.oid))) AS size
         FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
        WHERE i.inhparent = '"usage"."request_logs"'::regclass`,
    );
    log(`heavy account: ${Number(heavy).toLocaleString('en')} rows; request_logs incl. indexes: ${size}`);

    const repo = new UsageQueryRepository(ds);
    const service = new UsageQueryService(repo, new UsageMetrics(new Registry()));
    const heavyScope: UsageScope = { kind: 'account', accountId: accountId(HEAVY) };
    const small = (i: number): UsageScope => ({
      kind: 'account',
      accountId: accountId(1 + ((i * 97) % (ACCOUNTS - 1))),
    });
    const operator: UsageScope = { kind: 'operator', accountId: null };
    const iso = (d: Date) => d.toISOString();
    const daysBefore = (days: number) => new Date(end.getTime() - days * DAY_MS);

    // Cursors deep into the heavy account's history (page 2000 and beyond at 50 rows a page).
    const deepCursors: string[] = [];
    for (let i = 0; i < 10; i++) {
      const offset = 100_000 + i * 150_000;
      const [row] = await ds.query<Array<{ created_at: Date; request_id: string }>>(
        `SELECT "created_at", "request_id" FROM "usage"."request_logs" WHERE "account_id" = $1
          ORDER BY "created_at" DESC, "request_id" DESC OFFSET $2 LIMIT 1`,
        [accountId(HEAVY), offset],
      );
      if (row) {
        deepCursors.push(
          Buffer.from(JSON.stringify([row.created_at.toISOString(), row.request_id])).toString('base64url'),
        );
      }
    }

    const results: Result[] = [];
    const add = async (name: string, run: (i: number) => Promise<number>) => {
      const r = await time(name, run);
      results.push(r);
      log(`${name}: p50 ${r.p50.toFixed(2)} ms, p99 ${r.p99.toFixed(2)} ms`);
    };
    const list = (scope: UsageScope, filters: Record<string, string>, c?: string) =>
      service.listLogs({ scope, filters, limit: 50, cursor: c }).then((p) => p.data.length);

    await add('logs: heavy account, first page', () => list(heavyScope, {}));
    await add('logs: heavy account, deep cursor page', (i) =>
      list(heavyScope, {}, deepCursors[i % deepCursors.length]),
    );
    await add('logs: heavy account, model filter', (i) =>
      list(heavyScope, { model: MODELS[i % MODELS.length] }),
    );
    await add('logs: heavy account, status=error', () => list(heavyScope, { status: 'error' }));
    await add('logs: heavy account, key filter', (i) => list(heavyScope, { keyId: keyIdOf(HEAVY, i % 3) }));
    await add('logs: heavy account, last 24 h window', () =>
      list(heavyScope, { from: iso(daysBefore(1)), to: iso(end) }),
    );
    await add('logs: small accounts, first page', (i) => list(small(i), {}));
    await add('logs: operator, all accounts', () => list(operator, {}));
    const summary = (scope: UsageScope, groupBy: 'day' | 'hour' | 'model' | 'key', from: Date, to: Date) =>
      service
        .summarize({ scope, groupBy, filters: { from: iso(from), to: iso(to) } })
        .then((s) => s.groups.length);
    const dayStart = (d: Date) => new Date(Math.floor(d.getTime() / DAY_MS) * DAY_MS);
    await add('summary: heavy, by day, 30 whole days', () =>
      summary(heavyScope, 'day', dayStart(daysBefore(30)), dayStart(end)),
    );
    await add('summary: heavy, by model, 30 days unaligned (raw edges)', () =>
      summary(heavyScope, 'model', new Date(daysBefore(30).getTime() + 1_234_567), end),
    );
    await add('summary: heavy, by hour, 7 days', () => summary(heavyScope, 'hour', daysBefore(7), end));
    await add('summary: heavy, by key, 90 days', () =>
      summary(heavyScope, 'key', dayStart(daysBefore(89)), dayStart(new Date(end.getTime() + DAY_MS))),
    );
    await add('summary: small accounts, by day, 30 days', (i) =>
      summary(small(i), 'day', dayStart(daysBefore(30)), end),
    );
    await add('dashboard: heavy, 30d', () =>
      service.dashboard({ scope: heavyScope, range: '30d' }, end).then((d) => d.daily.length),
    );

    process.stdout.write(`\nusage queries over ${n.toLocaleString('en')} rows (${ITERATIONS} runs each)\n`);
    process.stdout.write(
      `${'query'.padEnd(60)} ${'p50 ms'.padStart(9)} ${'p99 ms'.padStart(9)} ${'max ms'.padStart(9)} rows\n`,
    );
    for (const r of results) {
      process.stdout.write(
        `${r.name.padEnd(60)} ${r.p50.toFixed(2).padStart(9)} ${r.p99.toFixed(2).padStart(9)} ${r.max.toFixed(2).padStart(9)} ${r.rows}\n`,
      );
    }
    // Machine-readable last line, read by bench/run.js.
    const summaryLine = {
      rows: n,
      iterations: ITERATIONS,
      worstP99Ms: Math.max(...results.map((r) => r.p99)),
      queries: results.map((r) => ({ name: r.name, p50Ms: r.p50, p99Ms: r.p99 })),
    };
    process.stdout.write(`JSON ${JSON.stringify(summaryLine)}\n`);
  } finally {
    await ds.destroy();
    if (!KEEP) await dropDatabase(DATABASE_URL);
  }
}

main().catch((e: unknown) => {
  process.stderr.write(`${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exit(1);
});
