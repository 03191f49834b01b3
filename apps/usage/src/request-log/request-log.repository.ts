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
    await this.partitions.ensureMonthKnown(row.createdAt);
    try {
      return await this.dataSource.transaction((em) => this.recordIn(em, row));
    } catch (e) {
      if (!isMissingPartition(e)) throw e;
      await this.partitions.ensureMonth(row.createdAt);
      return this.dataSource.transaction((em) => this.recordIn(em, row));
    }
  }

  private async recordIn(em: EntityManager, r: UsageRow): Promise<boolean> {
    const inserted: unknown[] = await em.query(
      `INSERT INTO "usage"."request_logs" (
         "request_id", "created_at", "finished_at", "account_id", "key_id", "key_name", "plan_id",
         "requested_model", "model", "channel_id", "channel_name", "attempts", "surface", "endpoint", "stream",
         "status", "http_status", "error_code", "usage_source", "input_tokens", "cache_read_tokens",
         "cache_write_5m_tokens", "cache_write_1h_tokens", "output_tokens", "reasoning_tokens",
         "cost_micro_usd", "list_cost_micro_usd", "price", "latency_ms", "ttft_ms", "client_ip")
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20,
               $21, $22, $23, $24, $25, $26, $27, $28, $29, $30, $31)
       ON CONFLICT DO NOTHING
       RETURNING 1`,
      [
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
      ],
    );
    if (inserted.length === 0) return false;

    // Always daily → hourly → channels (by id): concurrent writers lock rollup rows in one order.
    const totalsCols = rollupTotals.map((c) => `"${c}"`).join(', ');
    const totalsParams = rollupTotals.map((_, i) => `$${i + 6}`).join(', ');
    await em.query(
      `INSERT INTO "usage"."usage_daily" AS t ("account_id", "day", "key_id", "model", "key_name", ${totalsCols})
       VALUES ($1, $2, $3, $4, $5, ${totalsParams})
       ON CONFLICT ("account_id", "day", "key_id", "model")
       DO UPDATE SET "key_name" = EXCLUDED."key_name", ${addTotals('t')}`,
      [r.accountId, r.day, r.keyId, r.model, r.keyName, ...rollupValues(r)],
    );
    await em.query(
      `INSERT INTO "usage"."usage_hourly" AS t ("account_id", "hour", "key_id", "model", "key_name", ${totalsCols})
       VALUES ($1, $2, $3, $4, $5, ${totalsParams})
       ON CONFLICT ("account_id", "hour", "key_id", "model")
       DO UPDATE SET "key_name" = EXCLUDED."key_name", ${addTotals('t')}`,
      [r.accountId, r.hour, r.keyId, r.model, r.keyName, ...rollupValues(r)],
    );

    const touches = channelTouches(r);
    if (touches.length > 0) {
      const columns = [
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
      ];
      const params: unknown[] = [];
      const tuples = touches.map((t) => {
        const served = t.served ? 1 : 0;
        const values = [
          r.hour,
          t.channelId,
          r.model,
          t.channelName,
          served,
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
        ];
        const placeholders = values.map((v) => {
          params.push(v);
          return `$${params.length}`;
        });
        return `(${placeholders.join(', ')})`;
      });
      const sums = columns
        .slice(4)
        .map((c) => `"${c}" = t."${c}" + EXCLUDED."${c}"`)
        .join(', ');
      await em.query(
        `INSERT INTO "usage"."usage_channel_hourly" AS t (${columns.map((c) => `"${c}"`).join(', ')})
         VALUES ${tuples.join(', ')}
         ON CONFLICT ("hour", "channel_id", "model")
         DO UPDATE SET "channel_name" = EXCLUDED."channel_name", ${sums}`,
        params,
      );
    }
    return true;
  }
}
