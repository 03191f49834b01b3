import { Injectable } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';
import { PartitionsRepository } from '../partitions/partitions.repository';
import { channelTouches, type UsageRow } from './usage-row';

/** SQLSTATE 23514 with this message: the row's month has no partition yet. */
function isMissingPartition(e: unknown): boolean {
  const err = e as { code?: string; message?: string };
  return err?.code === '23514' && /no partition of relation/i.test(err.message ?? '');
}

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

function rollupValues(r: UsageRow): number[] {
  return [
    r.status === 'success' ? 1 : 0,
    r.status === 'error' ? 1 : 0,
    r.status === 'cancelled' ? 1 : 0,
    r.inputTokens,
    r.outputTokens,
    r.cacheReadTokens,
    r.cacheWrite5mTokens,
    r.cacheWrite1hTokens,
    r.reasoningTokens,
    r.costMicroUsd,
    r.listCostMicroUsd,
  ];
}

const addTotals = (alias: string) =>
  rollupTotals.map((c) => `"${c}" = ${alias}."${c}" + EXCLUDED."${c}"`).join(', ');

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

function logValues(r: UsageRow): unknown[] {
  return [
    r.requestId,
    r.createdAt,
    r.finishedAt,
    r.accountId,
    r.keyId,
    r.keyName,
    r.planId,
    r.requestedModel,
    r.model,
    r.channelId,
    r.channelName,
    JSON.stringify(r.attempts),
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
    JSON.stringify(r.price),
    r.latencyMs,
    r.ttftMs,
    r.clientIp,
  ];
}

const channelColumns = [
  'hour',
  'channel_id',
  'model',
  'channel_name',
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

/** One row of an upsert: its key (also the lock order), the columns it sets, and the totals it adds. */
interface RollupRow {
  key: string;
  fixed: unknown[];
  totals: number[];
}

/** Sums rows that share a key, so each rollup row is upserted once per batch; sorted by key. */
function aggregate(rows: RollupRow[]): RollupRow[] {
  const byKey = new Map<string, RollupRow>();
  for (const row of rows) {
    const seen = byKey.get(row.key);
    if (!seen) byKey.set(row.key, { ...row, totals: [...row.totals] });
    else {
      seen.fixed = row.fixed; // the newest name wins, as one upsert per row would leave it
      row.totals.forEach((v, i) => (seen.totals[i] += v));
    }
  }
  return [...byKey.values()].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}

/** `VALUES (…), (…)` with numbered parameters for `rows` of equal width. */
function valuesList(rows: unknown[][], params: unknown[]): string {
  return rows
    .map((values) => `(${values.map((v) => (params.push(v), `$${params.length}`)).join(', ')})`)
    .join(', ');
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
   * `record` for many rows in ONE transaction (one statement per table, whatever the batch size): the rows
   * that are new are added to the rollups, each rollup row once with the batch's sums. Returns, per row,
   * whether it was new (a replayed or repeated request id changes nothing).
   */
  async recordBatch(rows: UsageRow[]): Promise<boolean[]> {
    if (rows.length === 0) return [];
    for (const at of new Set(rows.map((r) => r.createdAt.getTime()))) {
      await this.partitions.ensureMonthKnown(new Date(at));
    }
    let inserted: Set<string>;
    try {
      inserted = await this.dataSource.transaction((em) => this.recordIn(em, rows));
    } catch (e) {
      if (!isMissingPartition(e)) throw e;
      for (const r of rows) await this.partitions.ensureMonth(r.createdAt);
      inserted = await this.dataSource.transaction((em) => this.recordIn(em, rows));
    }
    // A request id twice in one batch is new only once.
    return rows.map((r) => inserted.delete(r.requestId));
  }

  private async recordIn(em: EntityManager, batch: UsageRow[]): Promise<Set<string>> {
    const unique = [...new Map(batch.map((r) => [r.requestId, r])).values()];
    const params: unknown[] = [];
    const returned: Array<{ request_id: string }> = await em.query(
      `INSERT INTO "usage"."request_logs" (${logColumns.map((c) => `"${c}"`).join(', ')})
       VALUES ${valuesList(unique.map(logValues), params)}
       ON CONFLICT DO NOTHING
       RETURNING "request_id"`,
      params,
    );
    const inserted = new Set(returned.map((r) => r.request_id));
    const fresh = unique.filter((r) => inserted.has(r.requestId));
    if (fresh.length === 0) return inserted;

    // Always daily → hourly → channels, each in key order: concurrent writers lock rollup rows in one order.
    const totalsCols = rollupTotals.map((c) => `"${c}"`).join(', ');
    for (const [table, period] of [
      ['usage_daily', 'day'],
      ['usage_hourly', 'hour'],
    ] as const) {
      const rollup = aggregate(
        fresh.map((r) => {
          const at = period === 'day' ? r.day : r.hour.toISOString();
          return {
            key: `${r.accountId}|${at}|${r.keyId}|${r.model}`,
            fixed: [r.accountId, period === 'day' ? r.day : r.hour, r.keyId, r.model, r.keyName],
            totals: rollupValues(r),
          };
        }),
      );
      const rollupParams: unknown[] = [];
      await em.query(
        `INSERT INTO "usage"."${table}" AS t ("account_id", "${period}", "key_id", "model", "key_name", ${totalsCols})
         VALUES ${valuesList(
           rollup.map((row) => [...row.fixed, ...row.totals]),
           rollupParams,
         )}
         ON CONFLICT ("account_id", "${period}", "key_id", "model")
         DO UPDATE SET "key_name" = EXCLUDED."key_name", ${addTotals('t')}`,
        rollupParams,
      );
    }

    const channelRows = aggregate(
      fresh.flatMap((r) =>
        channelTouches(r).map((t) => ({
          key: `${r.hour.toISOString()}|${t.channelId}|${r.model}`,
          fixed: [r.hour, t.channelId, r.model, t.channelName],
          totals: [
            t.served ? 1 : 0,
            t.served && r.status === 'error' ? 1 : 0,
            t.attempts,
            t.failedAttempts,
            t.served ? r.latencyMs : 0,
            t.served && r.ttftMs !== null ? r.ttftMs : 0,
            t.served && r.ttftMs !== null ? 1 : 0,
            t.served ? r.inputTokens : 0,
            t.served ? r.outputTokens : 0,
            t.served ? r.costMicroUsd : 0,
            t.served ? r.listCostMicroUsd : 0,
          ],
        })),
      ),
    );
    if (channelRows.length > 0) {
      const channelParams: unknown[] = [];
      const sums = channelColumns
        .slice(4)
        .map((c) => `"${c}" = t."${c}" + EXCLUDED."${c}"`)
        .join(', ');
      await em.query(
        `INSERT INTO "usage"."usage_channel_hourly" AS t (${channelColumns.map((c) => `"${c}"`).join(', ')})
         VALUES ${valuesList(
           channelRows.map((row) => [...row.fixed, ...row.totals]),
           channelParams,
         )}
         ON CONFLICT ("hour", "channel_id", "model")
         DO UPDATE SET "channel_name" = EXCLUDED."channel_name", ${sums}`,
        channelParams,
      );
    }
    return inserted;
  }
}
