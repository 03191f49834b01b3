import type { UsageRecordedEvent } from '@torouter/contracts';
import { channelTouches, listCostOf, toUsageRow } from './usage-row';

const chA = '00000000-0000-4000-8000-00000000000a';
const chB = '00000000-0000-4000-8000-00000000000b';

function event(over: Partial<UsageRecordedEvent> = {}): UsageRecordedEvent {
  return {
    requestId: 'req_1',
    accountId: '00000000-0000-4000-8000-000000000001',
    keyId: '00000000-0000-4000-8000-000000000002',
    keyName: 'k',
    planId: null,
    requestedModel: 'gpt-5',
    model: 'gpt-5',
    channelId: chB,
    channelName: 'b',
    attempts: [],
    surface: 'openai',
    endpoint: '/v1/chat/completions',
    stream: false,
    status: 'success',
    httpStatus: 200,
    errorCode: null,
    usageSource: 'upstream',
    inputTokens: 1000,
    cacheReadTokens: 0,
    cacheWrite5mTokens: 0,
    cacheWrite1hTokens: 0,
    outputTokens: 500,
    reasoningTokens: 0,
    costMicroUsd: 9000,
    price: {
      input: 2_000_000,
      output: 8_000_000,
      cacheRead: 500_000,
      cacheWrite5m: 2_500_000,
      cacheWrite1h: 4_000_000,
      perRequest: 0,
      multiplierBp: 15_000,
    },
    reservationId: null,
    reservedMicroUsd: 0,
    startedAt: '2025-01-31T23:59:59.999876Z',
    finishedAt: '2025-02-01T00:00:01.000Z',
    latencyMs: 1001,
    ttftMs: null,
    clientIp: '203.0.113.9',
    ...over,
  };
}

describe('usage rows', () => {
  it('keys the row on the start time to the millisecond, and rolls it up on that UTC day and hour', () => {
    const row = toUsageRow(event());
    expect(row.createdAt.toISOString()).toBe('2025-01-31T23:59:59.999Z');
    expect(row.day).toBe('2025-01-31');
    expect(row.hour.toISOString()).toBe('2025-01-31T23:00:00.000Z');
  });

  it('prices the list cost from the snapshot without the plan multiplier', () => {
    // 1000 × 2 + 500 × 8 = 6000 micro-USD; the customer paid ×1.5 = 9000.
    expect(listCostOf(event())).toBe(6000);
    expect(listCostOf(event({ status: 'error', costMicroUsd: 0, inputTokens: 0, outputTokens: 0 }))).toBe(0);
  });

  it('records the spend billing settles: the event cost (0 for failures that produced nothing)', () => {
    expect(toUsageRow(event({ status: 'error', costMicroUsd: 0 })).costMicroUsd).toBe(0);
    expect(toUsageRow(event({ status: 'error', costMicroUsd: 4500 })).costMicroUsd).toBe(4500);
    expect(toUsageRow(event({ status: 'cancelled', costMicroUsd: 9000 })).costMicroUsd).toBe(9000);
  });

  it('counts each channel tried once, with its failed attempts, and marks the one that answered', () => {
    const touches = channelTouches(
      toUsageRow(
        event({
          attempts: [
            { channelId: chA, channelName: 'a', outcome: 'timeout', httpStatus: null },
            { channelId: chB, channelName: 'b', outcome: 'success', httpStatus: 200 },
          ],
        }),
      ),
    );
    expect(touches).toEqual([
      { channelId: chA, channelName: 'a', attempts: 1, failedAttempts: 1, served: false },
      { channelId: chB, channelName: 'b', attempts: 1, failedAttempts: 0, served: true },
    ]);
  });

  it('counts the serving channel as one attempt when the event lists none', () => {
    expect(channelTouches(toUsageRow(event({ status: 'error', costMicroUsd: 0 })))).toEqual([
      { channelId: chB, channelName: 'b', attempts: 1, failedAttempts: 1, served: true },
    ]);
  });
});
