import { Injectable } from '@nestjs/common';
import type { Pool } from 'pg';
import { DataSource } from 'typeorm';
import { PartitionsRepository } from '../partitions/partitions.repository';
import { channelTouches, type UsageRow } from './usage-row';

/** SQLSTATE 23514 with this message: the row's month has no partition yet. */
function isMissingPartition(e: unknown): boolean {
  const err = e as { code?: string; message?: string };
  return err?.code === '23514' && /no partition of relation/i.test(err.message ?? '');
}

const logColumns = [
  'request_id',
  'created_at',
  'finished_at',
  'account_id',
  'key_id',
  'key_name',
  'plan_id',
  'requested_model',
  'model',
  'channel_id',
  'channel_name',
  'attempts',
  'surface',
  'endpoint',
  'stream',
  'status',
  'http_status',
  'error_code',
  'usage_source',
  'input_tokens',
  'cache_read_tokens',
  'cache_write_5m_tokens',
  'cache_write_1h_tokens',
  'output_tokens',
  'reasoning_tokens',
  'cost_micro_usd',
  'list_cost_micro_usd',
  'price',
  'latency_ms',
  'ttft_ms',
  'client_ip',
] as const;

/** Request-log columns sent as one typed array each (the jsonb columns travel as one JSON array each). */
const logArrays = [
  ['request_id', 'text'],
  ['created_at', 'timestamptz'],
  ['finished_at', 'timestamptz'],
  ['account_id', 'uuid'],
  ['key_id', 'uuid'],
  ['key_name', 'text'],
  ['plan_id', 'text'],
  ['requested_model', 'text'],
  ['model', 'text'],
  ['channel_id', 'uuid'],
  ['channel_name', 'text'],
  ['surface', 'text'],
  ['endpoint', 'text'],
  ['stream', 'boolean'],
  ['status', 'text'],
  ['http_status', 'integer'],
  ['error_code', 'text'],
  ['usage_source', 'text'],
  ['input_tokens', 'bigint'],
  ['cache_read_tokens', 'bigint'],
  ['cache_write_5m_tokens', 'bigint'],
  ['cache_write_1h_tokens', 'bigint'],
  ['output_tokens', 'bigint'],
  ['reasoning_tokens', 'bigint'],
  ['cost_micro_usd', 'bigint'],
  ['list_cost_micro_usd', 'bigint'],
  ['latency_ms', 'integer'],
  ['ttft_ms', 'integer'],
  ['client_ip', 'text'],
  // Rollup keys, computed once in JS (utcDate / floorHour) so SQL and the query side agree on them.
  ['day', 'date'],
  ['hour', 'timestamptz'],
] as const;

/** Per channel a request touched (see channelTouches): one typed array each. */
const touchArrays = [
  ['request_id', 'text'],
  ['channel_id', 'uuid'],
  ['channel_name', 'text'],
  ['served', 'boolean'],
  ['attempts', 'integer'],
  ['failed_attempts', 'integer'],
] as const;

const rollupTotals = [
  'requests',
  'failed_requests',
  'cancelled_requests',
  'input_tokens',
  'output_tokens',
  'cache_read_tokens',
  'cache_write_5m_tokens',
  'cache_write_1h_tokens',
  'reasoning_tokens',
  'cost_micro_usd',
  'list_cost_micro_usd',
] as const;

const channelTotals = [
  'requests',
  'failed_requests',
  'attempts',
  'failed_attempts',
  'latency_ms_sum',
  'ttft_ms_sum',
  'ttft_count',
  'input_tokens',
  'output_tokens',
  'cost_micro_usd',
  'list_cost_micro_usd',
] as const;

const quoted = (cols: readonly string[]) => cols.map((c) => `"${c}"`).join(', ');
const addTo = (cols: readonly string[]) => cols.map((c) => `"${c}" = t."${c}" + EXCLUDED."${c}"`).join(', ');
const ATTEMPTS_PARAM = logArrays.length + 1;
const PRICE_PARAM = logArrays.length + 2;
const TOUCH_PARAM0 = logArrays.length + 3;

/** `usage_daily` / `usage_hourly`: one upsert row per (account, period, key, model) of the fresh rows. */
const periodRollup = (table: string, period: 'day' | 'hour') => `
  ${table} AS (
    INSERT INTO "usage"."usage_${table}" AS t ("account_id", "${period}", "key_id", "model", "key_name", ${quoted(rollupTotals)})
    SELECT "account_id", "${period}", "key_id", "model", (array_agg("key_name" ORDER BY "ord" DESC))[1],
           count(*) FILTER (WHERE "status" = 'success'),
           count(*) FILTER (WHERE "status" = 'error'),
           count(*) FILTER (WHERE "status" = 'cancelled'),
           sum("input_tokens"), sum("output_tokens"), sum("cache_read_tokens"), sum("cache_write_5m_tokens"),
           sum("cache_write_1h_tokens"), sum("reasoning_tokens"), sum("cost_micro_usd"), sum("list_cost_micro_usd")
      FROM fresh
     GROUP BY "account_id", "${period}", "key_id", "model"
     ORDER BY "account_id", "${period}", "key_id", "model"
    ON CONFLICT ("account_id", "${period}", "key_id", "model")
    DO UPDATE SET "key_name" = EXCLUDED."key_name", ${addTo(rollupTotals)}
  )`;

/**
 * The whole batch in ONE statement (so one round trip, and atomic without BEGIN/COMMIT): insert the rows
 * that are new, then add exactly those (`fresh`, joined on what the insert returned) to the daily, hourly
 * and per-channel rollups, each rollup row once with the batch's sums. A rollup row's name is the one of
 * the batch's last row for it (`ord`), as one upsert per row would leave it. Each rollup inserts in key
 * order and every writer runs this same statement, so concurrent writers lock rollup rows in one order.
 * The text is fixed whatever the batch size (one array per column), so it is prepared once per connection.
 * It returns the request ids that were already there (replays: rare), not the new ones (every row).
 */
const RECORD_BATCH_SQL = `
  WITH input AS MATERIALIZED (
    SELECT u.*, $${ATTEMPTS_PARAM}::jsonb -> (u."ord" - 1)::int AS "attempts", $${PRICE_PARAM}::jsonb -> (u."ord" - 1)::int AS "price"
      FROM unnest(${logArrays.map(([, type], i) => `$${i + 1}::${type}[]`).join(', ')})
           WITH ORDINALITY AS u(${quoted(logArrays.map(([c]) => c))}, "ord")
  ),
  ins AS (
    INSERT INTO "usage"."request_logs" (${quoted(logColumns)})
    SELECT ${quoted(logColumns)} FROM input
    ON CONFLICT DO NOTHING
    RETURNING "request_id"
  ),
  fresh AS MATERIALIZED (SELECT input.* FROM input JOIN ins USING ("request_id")),
  ${periodRollup('daily', 'day')},
  ${periodRollup('hourly', 'hour')},
  channels AS (
    INSERT INTO "usage"."usage_channel_hourly" AS t ("hour", "channel_id", "model", "channel_name", ${quoted(channelTotals)})
    SELECT f."hour", c."channel_id", f."model", (array_agg(c."channel_name" ORDER BY f."ord" DESC))[1],
           count(*) FILTER (WHERE c."served"),
           count(*) FILTER (WHERE c."served" AND f."status" = 'error'),
           sum(c."attempts"), sum(c."failed_attempts"),
           coalesce(sum(f."latency_ms") FILTER (WHERE c."served"), 0),
           coalesce(sum(f."ttft_ms") FILTER (WHERE c."served"), 0),
           count(f."ttft_ms") FILTER (WHERE c."served"),
           coalesce(sum(f."input_tokens") FILTER (WHERE c."served"), 0),
           coalesce(sum(f."output_tokens") FILTER (WHERE c."served"), 0),
           coalesce(sum(f."cost_micro_usd") FILTER (WHERE c."served"), 0),
           coalesce(sum(f."list_cost_micro_usd") FILTER (WHERE c."served"), 0)
      FROM unnest(${touchArrays.map(([, type], i) => `$${TOUCH_PARAM0 + i}::${type}[]`).join(', ')})
           AS c(${quoted(touchArrays.map(([c]) => c))})
      JOIN fresh f USING ("request_id")
     GROUP BY f."hour", c."channel_id", f."model"
     ORDER BY f."hour", c."channel_id", f."model"
    ON CONFLICT ("hour", "channel_id", "model")
    DO UPDATE SET "channel_name" = EXCLUDED."channel_name", ${addTo(channelTotals)}
  )
  SELECT i."request_id" FROM input i WHERE NOT EXISTS (SELECT 1 FROM ins WHERE ins."request_id" = i."request_id")`;

/** Prepared-statement name: node-postgres parses it once per connection and reuses the plan. */
const RECORD_BATCH = 'usage.request_logs.record_batch';

type Scalar = string | number | boolean | null;

/**
 * A Postgres array literal, built here rather than by node-postgres (which quotes and escapes every
 * element with two regex replaces). Only text can hold `"`, `\\`, commas or braces: it is always quoted,
 * and escaped when it needs to be. UUIDs (validated), ISO timestamps, dates, numbers and booleans are
 * written bare.
 */
function arrayLiteral(values: Scalar[], text: boolean): string {
  let out = '{';
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (i > 0) out += ',';
    if (v === null) out += 'NULL';
    else if (!text) out += String(v);
    else out += needsEscape.test(v as string) ? `"${(v as string).replace(escaped, '\\$&')}"` : `"${v}"`;
  }
  return `${out}}`;
}
const needsEscape = /["\\]/;
const escaped = /["\\]/g;

/** The statement's parameters: one array per column, in `logArrays` then `touchArrays` order. */
function batchParams(rows: UsageRow[]): string[] {
  const logs: Scalar[][] = logArrays.map(() => new Array<Scalar>(rows.length));
  const attempts = new Array<unknown>(rows.length);
  const prices = new Array<unknown>(rows.length);
  const touches: Scalar[][] = touchArrays.map(() => []);
  for (let i = 0; i < rows.length; i++) {
    const r = rows[i];
    // Timestamps as ISO text (UTC, milliseconds): what the row holds.
    const values: Scalar[] = [
      r.requestId,
      r.createdAt.toISOString(),
      r.finishedAt.toISOString(),
      r.accountId,
      r.keyId,
      r.keyName,
      r.planId,
      r.requestedModel,
      r.model,
      r.channelId,
      r.channelName,
      r.surface,
      r.endpoint,
      r.stream,
      r.status,
      r.httpStatus,
      r.errorCode,
      r.usageSource,
      r.inputTokens,
      r.cacheReadTokens,
      r.cacheWrite5mTokens,
      r.cacheWrite1hTokens,
      r.outputTokens,
      r.reasoningTokens,
      r.costMicroUsd,
      r.listCostMicroUsd,
      r.latencyMs,
      r.ttftMs,
      r.clientIp,
      r.day,
      r.hour.toISOString(),
    ];
    for (let c = 0; c < values.length; c++) logs[c][i] = values[c];
    attempts[i] = r.attempts;
    prices[i] = r.price;
    for (const t of channelTouches(r)) {
      touches[0].push(r.requestId);
      touches[1].push(t.channelId);
      touches[2].push(t.channelName);
      touches[3].push(t.served);
      touches[4].push(t.attempts);
      touches[5].push(t.failedAttempts);
    }
  }
  return [
    ...logs.map((values, c) => arrayLiteral(values, logArrays[c][1] === 'text')),
    JSON.stringify(attempts),
    JSON.stringify(prices),
    ...touches.map((values, c) => arrayLiteral(values, touchArrays[c][1] === 'text')),
  ];
}

/** The node-postgres pool behind TypeORM's data source: the hot path sends one prepared statement. */
function pgPool(dataSource: DataSource): Pool {
  const pool = (dataSource.driver as unknown as { master?: Pool }).master;
  if (!pool) throw new Error('the usage data source has no Postgres pool (not initialised?)');
  return pool;
}

/** Writes the request log and its rollups; the only writer of `usage.request_logs` and the rollup tables. */
@Injectable()
export class RequestLogRepository {
  constructor(
    private readonly dataSource: DataSource,
    private readonly partitions: PartitionsRepository,
  ) {}

  /**
   * Inserts the row and, only when it is new, adds it to the daily, hourly and per-channel rollups, all in
   * one transaction. Returns false for a replay (the row was already there: nothing changes).
   */
  async record(row: UsageRow): Promise<boolean> {
    return (await this.recordBatch([row]))[0];
  }

  /**
   * `record` for many rows in ONE statement (one transaction, one round trip, whatever the batch size):
   * the rows that are new are added to the rollups, each rollup row once with the batch's sums. Returns,
   * per row, whether it was new (a replayed or repeated request id changes nothing).
   */
  async recordBatch(rows: UsageRow[]): Promise<boolean[]> {
    if (rows.length === 0) return [];
    for (const at of distinctMonths(rows)) await this.partitions.ensureMonthKnown(at);
    // A request id twice in one batch is written once (its last copy), and is new only once.
    const unique = [...new Map(rows.map((r) => [r.requestId, r])).values()];
    const params = batchParams(unique);
    let replayed: Set<string>;
    try {
      replayed = await this.recordIn(params);
    } catch (e) {
      if (!isMissingPartition(e)) throw e;
      for (const at of distinctMonths(rows)) await this.partitions.ensureMonth(at);
      replayed = await this.recordIn(params);
    }
    const seen = replayed;
    return rows.map((r) => {
      if (seen.has(r.requestId)) return false;
      seen.add(r.requestId);
      return true;
    });
  }

  /** Runs the batch statement; returns the request ids that were already recorded. */
  private async recordIn(params: string[]): Promise<Set<string>> {
    const result = await pgPool(this.dataSource).query<{ request_id: string }>({
      name: RECORD_BATCH,
      text: RECORD_BATCH_SQL,
      values: params,
    });
    return new Set(result.rows.map((r) => r.request_id));
  }
}

/** One instant per UTC month the rows fall in (usually one), for the partition checks. */
function distinctMonths(rows: UsageRow[]): Date[] {
  const months = new Map<number, Date>();
  for (const r of rows) {
    const month = r.createdAt.getUTCFullYear() * 12 + r.createdAt.getUTCMonth();
    if (!months.has(month)) months.set(month, r.createdAt);
  }
  return [...months.values()];
}
