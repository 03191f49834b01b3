import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The request log and its rollups.
 *
 * `request_logs` is range-partitioned by month on `created_at` (the request's start, millisecond
 * precision); the partition job in the service creates months ahead and drops expired ones. Its primary
 * key (created_at, request_id) makes a replayed usage event a no-op (`ON CONFLICT DO NOTHING`; the event
 * carries the same start time every time) and doubles as the operators' newest-first index. Customers page
 * by (account_id, created_at DESC, request_id DESC), optionally narrowed by key, model or status (failed and
 * cancelled requests have their own small partial index).
 *
 * Rollups are written in the same transaction as a NEW row only, so they always add up to the rows:
 * `usage_daily` (kept forever: dashboards and long summaries never scan raw rows), `usage_hourly`
 * (groupBy=hour and partial days) and `usage_channel_hourly` (operators: per-channel errors, latency, cost).
 */
export class CreateRequestLogs1763950000000 implements MigrationInterface {
  name = 'CreateRequestLogs1763950000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE "usage"."request_logs" (
        "request_id" text NOT NULL,
        "created_at" timestamptz NOT NULL,
        "finished_at" timestamptz NOT NULL,
        "account_id" uuid NOT NULL,
        "key_id" uuid NOT NULL,
        "key_name" text NOT NULL,
        "plan_id" text,
        "requested_model" text NOT NULL,
        "model" text NOT NULL,
        "channel_id" uuid,
        "channel_name" text,
        "attempts" jsonb NOT NULL DEFAULT '[]',
        "surface" text NOT NULL,
        "endpoint" text NOT NULL,
        "stream" boolean NOT NULL,
        "status" text NOT NULL CHECK ("status" IN ('success', 'error', 'cancelled')),
        "http_status" integer NOT NULL,
        "error_code" text,
        "usage_source" text NOT NULL,
        "input_tokens" bigint NOT NULL,
        "cache_read_tokens" bigint NOT NULL,
        "cache_write_5m_tokens" bigint NOT NULL,
        "cache_write_1h_tokens" bigint NOT NULL,
        "output_tokens" bigint NOT NULL,
        "reasoning_tokens" bigint NOT NULL,
        "cost_micro_usd" bigint NOT NULL,
        "list_cost_micro_usd" bigint NOT NULL,
        "price" jsonb NOT NULL,
        "latency_ms" integer NOT NULL,
        "ttft_ms" integer,
        "client_ip" text NOT NULL,
        "recorded_at" timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT "request_logs_pkey" PRIMARY KEY ("created_at", "request_id")
      ) PARTITION BY RANGE ("created_at")`);
    await q.query(`
      CREATE INDEX "request_logs_account_idx"
        ON "usage"."request_logs" ("account_id", "created_at" DESC, "request_id" DESC)`);
    await q.query(`
      CREATE INDEX "request_logs_key_idx"
        ON "usage"."request_logs" ("key_id", "created_at" DESC, "request_id" DESC)`);
    await q.query(`
      CREATE INDEX "request_logs_account_model_idx"
        ON "usage"."request_logs" ("account_id", "model", "created_at" DESC, "request_id" DESC)`);
    await q.query(`
      CREATE INDEX "request_logs_account_unsuccessful_idx"
        ON "usage"."request_logs" ("account_id", "status", "created_at" DESC, "request_id" DESC)
        WHERE "status" <> 'success'`);

    const totals = `
        "requests" bigint NOT NULL DEFAULT 0,
        "failed_requests" bigint NOT NULL DEFAULT 0,
        "cancelled_requests" bigint NOT NULL DEFAULT 0,
        "input_tokens" bigint NOT NULL DEFAULT 0,
        "output_tokens" bigint NOT NULL DEFAULT 0,
        "cache_read_tokens" bigint NOT NULL DEFAULT 0,
        "cache_write_5m_tokens" bigint NOT NULL DEFAULT 0,
        "cache_write_1h_tokens" bigint NOT NULL DEFAULT 0,
        "reasoning_tokens" bigint NOT NULL DEFAULT 0,
        "cost_micro_usd" bigint NOT NULL DEFAULT 0,
        "list_cost_micro_usd" bigint NOT NULL DEFAULT 0`;
    await q.query(`
      CREATE TABLE "usage"."usage_daily" (
        "account_id" uuid NOT NULL,
        "day" date NOT NULL,
        "key_id" uuid NOT NULL,
        "model" text NOT NULL,
        "key_name" text NOT NULL,${totals},
        CONSTRAINT "usage_daily_pkey" PRIMARY KEY ("account_id", "day", "key_id", "model")
      )`);
    await q.query(`CREATE INDEX "usage_daily_day_idx" ON "usage"."usage_daily" ("day")`);
    await q.query(`
      CREATE TABLE "usage"."usage_hourly" (
        "account_id" uuid NOT NULL,
        "hour" timestamptz NOT NULL,
        "key_id" uuid NOT NULL,
        "model" text NOT NULL,
        "key_name" text NOT NULL,${totals},
        CONSTRAINT "usage_hourly_pkey" PRIMARY KEY ("account_id", "hour", "key_id", "model")
      )`);
    await q.query(`CREATE INDEX "usage_hourly_hour_idx" ON "usage"."usage_hourly" ("hour")`);
    await q.query(`
      CREATE TABLE "usage"."usage_channel_hourly" (
        "hour" timestamptz NOT NULL,
        "channel_id" uuid NOT NULL,
        "model" text NOT NULL,
        "channel_name" text NOT NULL,
        "requests" bigint NOT NULL DEFAULT 0,
        "failed_requests" bigint NOT NULL DEFAULT 0,
        "attempts" bigint NOT NULL DEFAULT 0,
        "failed_attempts" bigint NOT NULL DEFAULT 0,
        "latency_ms_sum" bigint NOT NULL DEFAULT 0,
        "ttft_ms_sum" bigint NOT NULL DEFAULT 0,
        "ttft_count" bigint NOT NULL DEFAULT 0,
        "input_tokens" bigint NOT NULL DEFAULT 0,
        "output_tokens" bigint NOT NULL DEFAULT 0,
        "cost_micro_usd" bigint NOT NULL DEFAULT 0,
        "list_cost_micro_usd" bigint NOT NULL DEFAULT 0,
        CONSTRAINT "usage_channel_hourly_pkey" PRIMARY KEY ("hour", "channel_id", "model")
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE "usage"."usage_channel_hourly"`);
    await q.query(`DROP TABLE "usage"."usage_hourly"`);
    await q.query(`DROP TABLE "usage"."usage_daily"`);
    await q.query(`DROP TABLE "usage"."request_logs"`);
  }
}
