import { Injectable } from '@nestjs/common';
import type {
  UsageGroupBy,
  UsageLogFilters,
  UsageRangeFilters,
  UsageScope,
  UsageStatus,
} from '@torouter/contracts';
import { DataSource } from 'typeorm';
import type { LogCursor } from './log-cursor';
import { utcDate, type WindowSegment } from './time-windows';

/** Collects positional parameters while a query is assembled. */
export class SqlParams {
  readonly values: unknown[] = [];
  add(v: unknown): string {
    this.values.push(v);
    return `$${this.values.length}`;
  }
}

/** A request-log row as read back (bigints come back as strings). */
export interface RequestLogRecord {
  request_id: string;
  created_at: Date;
  account_id: string;
  key_id: string;
  key_name: string;
  plan_id: string | null;
  model: string;
  requested_model: string;
  channel_id: string | null;
  channel_name: string | null;
  attempts: Array<{ channelId: string; channelName: string; outcome: string; httpStatus: number | null }>;
  endpoint: string;
  status: UsageStatus;
  http_status: number;
  error_code: string | null;
  usage_source: 'upstream' | 'estimated' | 'none';
  input_tokens: string;
  cache_read_tokens: string;
  cache_write_5m_tokens: string;
  cache_write_1h_tokens: string;
  output_tokens: string;
  reasoning_tokens: string;
  cost_micro_usd: string;
  list_cost_micro_usd: string;
  latency_ms: number;
  ttft_ms: number | null;
  stream: boolean;
  client_ip: string;
}

export const REQUEST_LOG_COLUMNS = `"request_id", "created_at", "account_id", "key_id", "key_name", "plan_id", "model",
  "requested_model", "channel_id", "channel_name", "attempts", "endpoint", "status", "http_status", "error_code",
  "usage_source", "input_tokens", "cache_read_tokens", "cache_write_5m_tokens", "cache_write_1h_tokens",
  "output_tokens", "reasoning_tokens", "cost_micro_usd", "list_cost_micro_usd", "latency_ms", "ttft_ms", "stream",
  "client_ip"`;

/** Sums as read back from an aggregate (numeric → string). */
export interface TotalsRecord {
  requests: string;
  failed_requests: string;
  cancelled_requests: string;
  input_tokens: string;
  output_tokens: string;
  cache_read_tokens: string;
  cache_write_tokens: string;
  reasoning_tokens: string;
  cost_micro_usd: string;
}

export interface SummaryRecord extends TotalsRecord {
  is_total: boolean;
  key: string | null;
  key_name: string | null;
}

export interface ChannelStatsRecord {
  channel_id: string;
  channel_name: string;
  requests: string;
  failed_requests: string;
  attempts: string;
  failed_attempts: string;
  latency_ms_sum: string;
  ttft_ms_sum: string;
  ttft_count: string;
  input_tokens: string;
  output_tokens: string;
  cost_micro_usd: string;
  list_cost_micro_usd: string;
}

const STATUS_LITERAL: Record<UsageStatus, string> = {
  success: `'success'`,
  error: `'error'`,
  cancelled: `'cancelled'`,
};

export function scopeWhere(scope: UsageScope, p: SqlParams, column = '"account_id"'): string[] {
  if (scope.kind === 'account') return [`${column} = ${p.add(scope.accountId)}`];
  return scope.accountId ? [`${column} = ${p.add(scope.accountId)}`] : [];
}

/**
 * WHERE terms for per-request rows. (`status = 'error'` alone lets the planner prove the partial index of
 * unsuccessful requests applies; repeating `status <> 'success'` would only skew its row estimate.)
 */
export function logWhere(scope: UsageScope, f: UsageLogFilters, p: SqlParams): string[] {
  const where = scopeWhere(scope, p);
  if (f.keyId) where.push(`"key_id" = ${p.add(f.keyId)}`);
  if (f.model) where.push(`"model" = ${p.add(f.model)}`);
  // A literal from a closed set (never caller text), so the planner can match the partial index.
  if (f.status) where.push(`"status" = ${STATUS_LITERAL[f.status]}`);
  if (f.channel) where.push(`"channel_name" = ${p.add(f.channel)}`);
  if (f.from) where.push(`"created_at" >= ${p.add(new Date(f.from))}`);
  if (f.to) where.push(`"created_at" < ${p.add(new Date(f.to))}`);
  return where;
}

const whereSql = (terms: string[]) => (terms.length ? `WHERE ${terms.join(' AND ')}` : '');

const n = (v: string | number | null | undefined) => (v === null || v === undefined ? 0 : Number(v));
export { n as toNumber };

/** Reads the request log and rollups; the only reader of the usage schema's tables. */
@Injectable()
export class UsageQueryRepository {
  constructor(private readonly dataSource: DataSource) {}

  /** Newest first; keyset after `cursor`. Returns up to `limit` rows. */
  async listLogs(
    scope: UsageScope,
    filters: UsageLogFilters,
    limit: number,
    cursor?: LogCursor,
  ): Promise<RequestLogRecord[]> {
    const p = new SqlParams();
    const where = logWhere(scope, filters, p);
    if (cursor) {
      const at = p.add(cursor.createdAt);
      // The plain bound lets the planner skip newer partitions; the row comparison is the exact keyset.
      where.push(
        `"created_at" <= ${at}`,
        `("created_at", "request_id") < (${at}, ${p.add(cursor.requestId)})`,
      );
    }
    return this.dataSource.query(
      `SELECT ${REQUEST_LOG_COLUMNS}
         FROM "usage"."request_logs"
         ${whereSql(where)}
        ORDER BY "created_at" DESC, "request_id" DESC
        LIMIT ${p.add(limit)}`,
      p.values,
    );
  }

  /**
   * Sums per group over the window's segments (daily/hourly rollups, raw rows at partial-hour edges), at
   * most `maxGroups` groups plus one totals row (`is_total`) over all groups.
   */
  async summarize(
    scope: UsageScope,
    filters: UsageRangeFilters,
    groupBy: UsageGroupBy,
    segments: WindowSegment[],
    maxGroups: number,
  ): Promise<SummaryRecord[]> {
    if (segments.length === 0) return [];
    const p = new SqlParams();
    const parts = segments.map((s) => this.segmentSql(scope, filters, groupBy, s, p));
    const keyName = groupBy === 'key' ? `(array_agg("key_name" ORDER BY "t" DESC))[1]` : 'NULL::text';
    const order =
      groupBy === 'day' || groupBy === 'hour'
        ? `"key" ASC`
        : `"cost_micro_usd" DESC, "requests" DESC, "key" ASC`;
    const sums = `sum("requests") AS "requests", sum("failed_requests") AS "failed_requests",
        sum("cancelled_requests") AS "cancelled_requests", sum("input_tokens") AS "input_tokens",
        sum("output_tokens") AS "output_tokens", sum("cache_read_tokens") AS "cache_read_tokens",
        sum("cache_write_tokens") AS "cache_write_tokens", sum("reasoning_tokens") AS "reasoning_tokens",
        sum("cost_micro_usd") AS "cost_micro_usd"`;
    return this.dataSource.query(
      `WITH "seg" AS (${parts.join(' UNION ALL ')}),
            "grouped" AS (SELECT "g" AS "key", ${keyName} AS "key_name", ${sums} FROM "seg" GROUP BY "g")
       (SELECT false AS "is_total", * FROM "grouped" ORDER BY ${order} LIMIT ${p.add(maxGroups)})
       UNION ALL
       (SELECT true, NULL, NULL, ${sums} FROM "grouped")`,
      p.values,
    );
  }

  private segmentSql(
    scope: UsageScope,
    f: UsageRangeFilters,
    groupBy: UsageGroupBy,
    s: WindowSegment,
    p: SqlParams,
  ): string {
    const where = scopeWhere(scope, p);
    if (f.keyId) where.push(`"key_id" = ${p.add(f.keyId)}`);
    if (f.model) where.push(`"model" = ${p.add(f.model)}`);
    const hourText = (col: string) => `to_char(${col} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24":00:00.000Z"')`;
    const dayText = (col: string) => `to_char(${col} AT TIME ZONE 'UTC', 'YYYY-MM-DD')`;
    const groupExpr = (time: string, isDate: boolean) => {
      switch (groupBy) {
        case 'day':
          return isDate ? `to_char(${time}::timestamp, 'YYYY-MM-DD')` : dayText(time);
        case 'hour':
          return hourText(time);
        case 'model':
          return `"model"`;
        case 'key':
          return `"key_id"::text`;
        case 'account':
          return `"account_id"::text`;
      }
    };
    if (s.source === 'raw') {
      where.push(`"created_at" >= ${p.add(s.from)}`, `"created_at" < ${p.add(s.to)}`);
      return `SELECT ${groupExpr('"created_at"', false)} AS "g", "created_at" AS "t", "key_name",
          ("status" = 'success')::int AS "requests", ("status" = 'error')::int AS "failed_requests",
          ("status" = 'cancelled')::int AS "cancelled_requests", "input_tokens", "output_tokens",
          "cache_read_tokens", "cache_write_5m_tokens" + "cache_write_1h_tokens" AS "cache_write_tokens",
          "reasoning_tokens", "cost_micro_usd"
        FROM "usage"."request_logs" ${whereSql(where)}`;
    }
    const rollupCols = `"key_name", "requests", "failed_requests", "cancelled_requests", "input_tokens",
          "output_tokens", "cache_read_tokens", "cache_write_5m_tokens" + "cache_write_1h_tokens" AS "cache_write_tokens",
          "reasoning_tokens", "cost_micro_usd"`;
    if (s.source === 'daily') {
      where.push(`"day" >= ${p.add(utcDate(s.from))}::date`, `"day" < ${p.add(utcDate(s.to))}::date`);
      return `SELECT ${groupExpr('"day"', true)} AS "g", ("day"::timestamp AT TIME ZONE 'UTC') AS "t", ${rollupCols}
        FROM "usage"."usage_daily" ${whereSql(where)}`;
    }
    where.push(`"hour" >= ${p.add(s.from)}`, `"hour" < ${p.add(s.to)}`);
    return `SELECT ${groupExpr('"hour"', false)} AS "g", "hour" AS "t", ${rollupCols}
        FROM "usage"."usage_hourly" ${whereSql(where)}`;
  }

  /** Per-day spend and request counts from the daily rollup, days in [fromDay, toDay]. */
  async dailySpend(
    scope: UsageScope,
    fromDay: string,
    toDay: string,
  ): Promise<Array<{ date: string; cost_micro_usd: string; requests: string; failed_requests: string }>> {
    const p = new SqlParams();
    const where = scopeWhere(scope, p);
    where.push(`"day" >= ${p.add(fromDay)}::date`, `"day" <= ${p.add(toDay)}::date`);
    return this.dataSource.query(
      `SELECT to_char("day"::timestamp, 'YYYY-MM-DD') AS "date", sum("cost_micro_usd") AS "cost_micro_usd",
              sum("requests" + "failed_requests" + "cancelled_requests") AS "requests",
              sum("failed_requests") AS "failed_requests"
         FROM "usage"."usage_daily" ${whereSql(where)}
        GROUP BY "day" ORDER BY "day"`,
      p.values,
    );
  }

  /** Models by spend (then request count) over days in [fromDay, toDay], from the daily rollup. */
  async topModels(
    scope: UsageScope,
    fromDay: string,
    toDay: string,
    limit: number,
  ): Promise<Array<{ model: string; cost_micro_usd: string; requests: string }>> {
    const p = new SqlParams();
    const where = scopeWhere(scope, p);
    where.push(`"day" >= ${p.add(fromDay)}::date`, `"day" <= ${p.add(toDay)}::date`);
    return this.dataSource.query(
      `SELECT "model", sum("cost_micro_usd") AS "cost_micro_usd",
              sum("requests" + "failed_requests" + "cancelled_requests") AS "requests"
         FROM "usage"."usage_daily" ${whereSql(where)}
        GROUP BY "model"
        ORDER BY 2 DESC, 3 DESC, "model" ASC
        LIMIT ${p.add(limit)}`,
      p.values,
    );
  }

  /** Per-channel totals from the channel rollup, hours in [from, to). */
  async channelStats(from: Date, to: Date, model?: string): Promise<ChannelStatsRecord[]> {
    const p = new SqlParams();
    const where = [`"hour" >= ${p.add(from)}`, `"hour" < ${p.add(to)}`];
    if (model) where.push(`"model" = ${p.add(model)}`);
    return this.dataSource.query(
      `SELECT "channel_id", (array_agg("channel_name" ORDER BY "hour" DESC))[1] AS "channel_name",
              sum("requests") AS "requests", sum("failed_requests") AS "failed_requests",
              sum("attempts") AS "attempts", sum("failed_attempts") AS "failed_attempts",
              sum("latency_ms_sum") AS "latency_ms_sum", sum("ttft_ms_sum") AS "ttft_ms_sum",
              sum("ttft_count") AS "ttft_count", sum("input_tokens") AS "input_tokens",
              sum("output_tokens") AS "output_tokens", sum("cost_micro_usd") AS "cost_micro_usd",
              sum("list_cost_micro_usd") AS "list_cost_micro_usd"
         FROM "usage"."usage_channel_hourly" ${whereSql(where)}
        GROUP BY "channel_id"
        ORDER BY sum("attempts") DESC, "channel_id"`,
      p.values,
    );
  }
}
