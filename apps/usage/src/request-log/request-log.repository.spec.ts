import type { UsageRecordedEvent } from '@torouter/contracts';
import {
  createServiceDataSource,
  dropDatabase,
  ensureDatabase,
  migrateServiceSchema,
} from '@torouter/database';
import { randomBytes, randomUUID } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { usageMigrations } from '../migrations';
import { PartitionsRepository } from '../partitions/partitions.repository';
import { RequestLogRepository } from './request-log.repository';
import { toUsageRow } from './usage-row';

const account = randomUUID();
const key = randomUUID();
const chA = randomUUID();
const chB = randomUUID();
const startedAt = '2025-03-10T14:20:00.123456Z';

function event(over: Partial<UsageRecordedEvent> = {}): UsageRecordedEvent {
  return {
    requestId: `req_${randomUUID()}`,
    accountId: account,
    keyId: key,
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
    price: {
      input: 2_000_000,
      output: 8_000_000,
      cacheRead: 500_000,
      cacheWrite5m: 2_500_000,
      cacheWrite1h: 4_000_000,
      perRequest: 0,
      multiplierBp: 10_000,
    },
    reservationId: null,
    reservedMicroUsd: 0,
    startedAt,
    finishedAt: '2025-03-10T14:20:01.000Z',
    latencyMs: 877,
    ttftMs: null,
    clientIp: '203.0.113.7',
    ...over,
  };
}

describe('RequestLogRepository.recordBatch (real Postgres)', () => {
  const url = `postgres://postgres@127.0.0.1:5432/torouter_test_usage_repo_${randomBytes(4).toString('hex')}`;
  let dataSource: DataSource;
  let repository: RequestLogRepository;

  const daily = async (model: string) =>
    dataSource.query(
      `SELECT "key_name", "requests"::int, "failed_requests"::int, "input_tokens"::int, "cost_micro_usd"::int
         FROM "usage"."usage_daily" WHERE "account_id" = $1 AND "day" = '2025-03-10' AND "model" = $2`,
      [account, model],
    );

  beforeAll(async () => {
    await ensureDatabase(url);
    dataSource = createServiceDataSource({ url, schema: 'usage', entities: [], migrations: usageMigrations });
    await dataSource.initialize();
    await migrateServiceSchema(dataSource);
    repository = new RequestLogRepository(dataSource, new PartitionsRepository(dataSource));
  });

  afterAll(async () => {
    await dataSource?.destroy();
    await dropDatabase(url);
  });

  it('writes every column as sent, text with quotes, backslashes, commas and braces included', async () => {
    const e = event({
      keyName: 'NULL',
      endpoint: '/v1/a,b{c}',
      errorCode: 'say "hi" \\ back\\slash',
      planId: 'plan with spaces',
      channelId: null,
      channelName: null,
      status: 'error',
      httpStatus: 502,
      ttftMs: 12,
      attempts: [{ channelId: chA, channelName: 'a "quoted" name', outcome: 'timeout', httpStatus: null }],
    });
    expect(await repository.recordBatch([toUsageRow(e)])).toEqual([true]);
    const [row] = await dataSource.query(
      `SELECT "key_name", "endpoint", "error_code", "plan_id", "channel_id", "channel_name", "attempts", "price",
              "created_at", "finished_at", "http_status", "ttft_ms", "latency_ms", "list_cost_micro_usd"::int,
              "stream", "client_ip"
         FROM "usage"."request_logs" WHERE "request_id" = $1`,
      [e.requestId],
    );
    expect(row).toEqual({
      key_name: 'NULL',
      endpoint: '/v1/a,b{c}',
      error_code: 'say "hi" \\ back\\slash',
      plan_id: 'plan with spaces',
      channel_id: null,
      channel_name: null,
      attempts: e.attempts,
      price: e.price,
      created_at: new Date('2025-03-10T14:20:00.123Z'),
      finished_at: new Date('2025-03-10T14:20:01.000Z'),
      http_status: 502,
      ttft_ms: 12,
      latency_ms: 877,
      list_cost_micro_usd: 600,
      stream: false,
      client_ip: '203.0.113.7',
    });
  });

  it('counts a request id repeated in a batch once, skips replays, and rolls up the new rows with the newest key name', async () => {
    const model = `m-${randomUUID()}`;
    const first = event({ model, keyName: 'old name' });
    const second = event({ model, keyName: 'new name', inputTokens: 7, costMicroUsd: 11 });
    const isNew = await repository.recordBatch([first, second, first].map(toUsageRow));
    expect(isNew).toEqual([true, true, false]);
    expect(await daily(model)).toEqual([
      { key_name: 'new name', requests: 2, failed_requests: 0, input_tokens: 107, cost_micro_usd: 611 },
    ]);

    // A redelivered batch with one new row: only that row counts.
    const third = event({ model, keyName: 'newest', status: 'error', httpStatus: 500 });
    expect(await repository.recordBatch([second, third].map(toUsageRow))).toEqual([false, true]);
    expect(await daily(model)).toEqual([
      { key_name: 'newest', requests: 2, failed_requests: 1, input_tokens: 207, cost_micro_usd: 1211 },
    ]);
    const [{ n }] = await dataSource.query(
      `SELECT count(*)::int AS n FROM "usage"."request_logs" WHERE "request_id" = ANY($1)`,
      [[first.requestId, second.requestId, third.requestId]],
    );
    expect(n).toBe(3);
  });

  it('adds each channel a request touched to the hourly channel rollup, the serving one with its latency', async () => {
    const model = `m-${randomUUID()}`;
    const served = event({
      model,
      ttftMs: 40,
      attempts: [
        { channelId: chA, channelName: 'chan-a', outcome: 'rate_limited', httpStatus: 429 },
        { channelId: chB, channelName: 'chan-b', outcome: 'success', httpStatus: 200 },
      ],
    });
    const failed = event({ model, status: 'error', httpStatus: 502, costMicroUsd: 0, outputTokens: 0 });
    expect(await repository.recordBatch([served, failed].map(toUsageRow))).toEqual([true, true]);
    const rows = await dataSource.query(
      `SELECT "channel_id", "channel_name", "hour", "requests"::int, "failed_requests"::int, "attempts"::int,
              "failed_attempts"::int, "latency_ms_sum"::int, "ttft_ms_sum"::int, "ttft_count"::int,
              "input_tokens"::int, "output_tokens"::int, "cost_micro_usd"::int
         FROM "usage"."usage_channel_hourly" WHERE "model" = $1 ORDER BY "channel_name"`,
      [model],
    );
    const hour = new Date('2025-03-10T14:00:00.000Z');
    expect(rows).toEqual([
      {
        channel_id: chA,
        channel_name: 'chan-a',
        hour,
        requests: 0,
        failed_requests: 0,
        attempts: 1,
        failed_attempts: 1,
        latency_ms_sum: 0,
        ttft_ms_sum: 0,
        ttft_count: 0,
        input_tokens: 0,
        output_tokens: 0,
        cost_micro_usd: 0,
      },
      {
        channel_id: chB,
        channel_name: 'chan-b',
        hour,
        requests: 2,
        failed_requests: 1,
        attempts: 2,
        failed_attempts: 1,
        latency_ms_sum: 2 * 877,
        ttft_ms_sum: 40,
        ttft_count: 1,
        input_tokens: 200,
        output_tokens: 50,
        cost_micro_usd: 600,
      },
    ]);
    const [hourly] = await dataSource.query(
      `SELECT "requests"::int, "failed_requests"::int FROM "usage"."usage_hourly"
        WHERE "account_id" = $1 AND "model" = $2 AND "hour" = $3`,
      [account, model, hour],
    );
    expect(hourly).toEqual({ requests: 1, failed_requests: 1 });
  });
});
