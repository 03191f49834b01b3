import type { UsageRecordedEvent } from '@torouter/contracts';
import { tokenCost } from '@torouter/money';
import { floorHour, utcDate } from '../queries/time-windows';

const INT4_MAX = 2_147_483_647;

/** One request-log row, as written (money in integer micro-USD). */
export interface UsageRow {
  requestId: string;
  /** The request's start, truncated to the millisecond (cursor precision). */
  createdAt: Date;
  finishedAt: Date;
  day: string;
  hour: Date;
  accountId: string;
  keyId: string;
  keyName: string;
  planId: string | null;
  requestedModel: string;
  model: string;
  channelId: string | null;
  channelName: string | null;
  attempts: UsageRecordedEvent['attempts'];
  surface: string;
  endpoint: string;
  stream: boolean;
  status: UsageRecordedEvent['status'];
  httpStatus: number;
  errorCode: string | null;
  usageSource: UsageRecordedEvent['usageSource'];
  inputTokens: number;
  cacheReadTokens: number;
  cacheWrite5mTokens: number;
  cacheWrite1hTokens: number;
  outputTokens: number;
  reasoningTokens: number;
  costMicroUsd: number;
  listCostMicroUsd: number;
  price: UsageRecordedEvent['price'];
  latencyMs: number;
  ttftMs: number | null;
  clientIp: string;
}

/** Per channel the request touched: its attempts, and whether it is the one that answered. */
export interface ChannelTouch {
  channelId: string;
  channelName: string;
  attempts: number;
  failedAttempts: number;
  served: boolean;
}

/**
 * The same tokens at the catalog price snapshot, before the plan multiplier: what the upstream's list
 * price would charge. Counted for failed requests too (an upstream that streamed tokens before failing
 * still bills them), so operators see what failures cost. The per-request fee only applies to answers.
 */
export function listCostOf(e: UsageRecordedEvent): number {
  try {
    return (
      tokenCost(e.inputTokens, e.price.input) +
      tokenCost(e.cacheReadTokens, e.price.cacheRead) +
      tokenCost(e.cacheWrite5mTokens, e.price.cacheWrite5m) +
      tokenCost(e.cacheWrite1hTokens, e.price.cacheWrite1h) +
      tokenCost(e.outputTokens, e.price.output) +
      (e.status === 'error' ? 0 : Math.max(0, e.price.perRequest))
    );
  } catch {
    // Absurd token counts or prices (beyond 2^53): keep the row, fall back to what was charged.
    return e.costMicroUsd;
  }
}

const clampInt = (n: number) => Math.min(Math.max(0, Math.trunc(n)), INT4_MAX);

export function toUsageRow(e: UsageRecordedEvent): UsageRow {
  const createdAt = new Date(e.startedAt); // JS dates hold milliseconds: sub-ms digits are dropped
  return {
    requestId: e.requestId,
    createdAt,
    finishedAt: new Date(e.finishedAt),
    day: utcDate(createdAt),
    hour: floorHour(createdAt),
    accountId: e.accountId,
    keyId: e.keyId,
    keyName: e.keyName,
    planId: e.planId,
    requestedModel: e.requestedModel,
    model: e.model,
    channelId: e.channelId,
    channelName: e.channelName,
    attempts: e.attempts,
    surface: e.surface,
    endpoint: e.endpoint,
    stream: e.stream,
    status: e.status,
    httpStatus: e.httpStatus,
    errorCode: e.errorCode,
    usageSource: e.usageSource,
    inputTokens: e.inputTokens,
    cacheReadTokens: e.cacheReadTokens,
    cacheWrite5mTokens: e.cacheWrite5mTokens,
    cacheWrite1hTokens: e.cacheWrite1hTokens,
    outputTokens: e.outputTokens,
    reasoningTokens: e.reasoningTokens,
    // Exactly what billing settles: the router prices a failure that produced nothing at 0, and a
    // stream cut after output at the tokens the customer received (never billed as zero).
    costMicroUsd: e.costMicroUsd,
    listCostMicroUsd: listCostOf(e),
    price: e.price,
    latencyMs: clampInt(e.latencyMs),
    ttftMs: e.ttftMs === null ? null : clampInt(e.ttftMs),
    clientIp: e.clientIp,
  };
}

/**
 * Every channel the request touched, once each (ordered by id so concurrent writers lock rollup rows in
 * the same order). Attempts say how each try went (`success` = that channel answered); a request that
 * lists no attempts but has a serving channel counts as one attempt there, with the request's outcome.
 */
export function channelTouches(row: UsageRow): ChannelTouch[] {
  const byId = new Map<string, ChannelTouch>();
  const touch = (id: string, name: string) => {
    let t = byId.get(id);
    if (!t) {
      t = { channelId: id, channelName: name, attempts: 0, failedAttempts: 0, served: false };
      byId.set(id, t);
    }
    return t;
  };
  for (const a of row.attempts) {
    const t = touch(a.channelId, a.channelName);
    t.attempts += 1;
    if (a.outcome !== 'success') t.failedAttempts += 1;
  }
  if (row.channelId) {
    const t = touch(row.channelId, row.channelName ?? row.channelId);
    t.served = true;
    if (row.attempts.length === 0) {
      t.attempts += 1;
      if (row.status === 'error') t.failedAttempts += 1;
    }
  }
  return [...byId.values()].sort((a, b) => (a.channelId < b.channelId ? -1 : 1));
}
