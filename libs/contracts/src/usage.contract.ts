import { z } from 'zod';
import { Subjects } from './subjects';

const uuid = z.string().uuid();
const instant = z.string().datetime({ offset: true });

/**
 * What other services (the router's control-plane facade) ask usage. The usage service owns the request
 * log (one row per usage event), its hourly/daily rollups and the CSV export. Prompts and completions are
 * never stored.
 *
 * Every query names its scope explicitly: an account sees only its own rows; `operator` is for admin
 * routes (optionally narrowed to one account). A facade that forgot the account id gets a validation
 * error, never everyone's rows.
 */
export const UsageScope = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('account'), accountId: uuid }),
  z.object({ kind: z.literal('operator'), accountId: uuid.nullable().default(null) }),
]);
export type UsageScope = z.infer<typeof UsageScope>;

export const UsageStatus = z.enum(['success', 'error', 'cancelled']);
export type UsageStatus = z.infer<typeof UsageStatus>;

/** Absolute half-open window [from, to); the facade resolves dates to instants (UTC). */
export const UsageRangeFilters = z.object({
  from: instant.optional(),
  to: instant.optional(),
  keyId: uuid.optional(),
  model: z.string().min(1).max(200).optional(),
});
export type UsageRangeFilters = z.infer<typeof UsageRangeFilters>;

/** Filters that only per-request rows can answer (rollups keep no status or channel per account). */
export const UsageLogFilters = UsageRangeFilters.extend({
  status: UsageStatus.optional(),
  /** The serving channel's name (operators). */
  channel: z.string().min(1).max(100).optional(),
});
export type UsageLogFilters = z.infer<typeof UsageLogFilters>;

export const USAGE_LOGS_MAX_LIMIT = 200;

export const UsageLogsListRequest = z.object({
  scope: UsageScope,
  filters: UsageLogFilters.default({}),
  limit: z.number().int().min(1).max(USAGE_LOGS_MAX_LIMIT).default(50),
  /** Opaque, from the previous page's `nextCursor`. */
  cursor: z.string().min(1).max(300).optional(),
});
export type UsageLogsListRequest = z.input<typeof UsageLogsListRequest>;

/** One request as the customer sees it (USD numbers are for display; the CSV carries exact decimals). */
export interface UsageLogView {
  requestId: string;
  createdAt: string;
  keyId: string;
  keyName: string;
  model: string;
  requestedModel: string;
  channelName: string | null;
  endpoint: string;
  status: UsageStatus;
  httpStatus: number;
  errorCode?: string;
  inputTokens: number;
  cacheReadTokens: number;
  cacheWrite5mTokens: number;
  cacheWrite1hTokens: number;
  outputTokens: number;
  reasoningTokens: number;
  costUsd: number;
  latencyMs: number;
  ttftMs: number | null;
  stream: boolean;
  /** Channels tried before the one that answered (failover never repeats one). */
  retries: number;
  clientIp: string;
}

/** Operators also see whose request it was and how it was routed and priced. */
export interface OperatorUsageLogView extends UsageLogView {
  accountId: string;
  channelId: string | null;
  attempts: Array<{ channelId: string; channelName: string; outcome: string; httpStatus: number | null }>;
  usageSource: 'upstream' | 'estimated' | 'none';
  /** The same tokens at the catalog (list) price, before the plan multiplier. */
  listCostUsd: number;
  planId: string | null;
}

export interface UsageLogsPage<T extends UsageLogView = UsageLogView> {
  data: T[];
  nextCursor: string | null;
}

export const UsageGroupBy = z.enum(['day', 'hour', 'model', 'key', 'account']);
export type UsageGroupBy = z.infer<typeof UsageGroupBy>;

/** groupBy=hour spans at most this many days (one group per hour), groupBy=day at most USAGE_DAILY_MAX_DAYS. */
export const USAGE_HOURLY_MAX_DAYS = 31;
export const USAGE_DAILY_MAX_DAYS = 1000;
/** model/key/account groups beyond this many (by spend) are cut and `truncated` is set. */
export const USAGE_SUMMARY_MAX_GROUPS = 1000;

export const UsageSummaryRequest = z.object({
  scope: UsageScope,
  filters: UsageRangeFilters.extend({ from: instant, to: instant }),
  groupBy: UsageGroupBy,
});
export type UsageSummaryRequest = z.input<typeof UsageSummaryRequest>;

export interface UsageTotals {
  /** Successful requests (the details page counts these). */
  requests: number;
  failedRequests: number;
  cancelledRequests: number;
  inputTokens: number;
  outputTokens: number;
  cacheReadTokens: number;
  /** Cache creation: 5-minute plus 1-hour writes. */
  cacheWriteTokens: number;
  reasoningTokens: number;
  costUsd: number;
}

export interface UsageSummaryGroup extends UsageTotals {
  /** 'YYYY-MM-DD' (day), ISO hour (hour), model id, key id or account id. */
  key: string;
  /** groupBy=key: the key's name on its latest request. */
  keyName?: string;
}

export interface UsageSummary {
  from: string;
  to: string;
  groupBy: UsageGroupBy;
  groups: UsageSummaryGroup[];
  totals: UsageTotals;
  truncated: boolean;
}

export const UsageDashboardRange = z.enum(['7d', '30d']);
export type UsageDashboardRange = z.infer<typeof UsageDashboardRange>;

export const UsageDashboardRequest = z.object({ scope: UsageScope, range: UsageDashboardRange });
export type UsageDashboardRequest = z.input<typeof UsageDashboardRequest>;

export interface UsageDashboard {
  range: UsageDashboardRange;
  /** First day shown and the instant the window ends (exclusive), UTC. */
  from: string;
  to: string;
  totals: { spendUsd: number; requests: number; failedRequests: number };
  /** One entry per day, oldest first, zero-filled. `requests` counts every request, failed ones too. */
  daily: Array<{ date: string; spendUsd: number; requests: number; failedRequests: number }>;
  /** By spend, then request count. */
  topModels: Array<{ model: string; spendUsd: number; requests: number }>;
  recentActivity: Array<{
    requestId: string;
    createdAt: string;
    model: string;
    keyName: string;
    status: UsageStatus;
    inputTokens: number;
    outputTokens: number;
    totalTokens: number;
    costUsd: number;
  }>;
}

// ---- CSV export ------------------------------------------------------------------------------------
/**
 * The CSV export crosses NATS as flow-controlled frames (a file can be far larger than NATS's 1 MB message
 * limit). The caller subscribes to a fresh inbox, then asks `usage.export.start.v1` with `replyTo` = that
 * inbox. The usage service streams rows from a server-side cursor and sends each frame as a NATS request
 * to the inbox, waiting for the caller's reply before reading the next batch: the caller replies once the
 * frame is written to its client (HTTP backpressure), so neither side ever holds more than one frame.
 * Header `Usage-Export-Frame` says what a frame is; the caller answers `ok` to continue or `abort` to stop.
 */
export const USAGE_EXPORT_FRAME_HEADER = 'Usage-Export-Frame';
export type UsageExportFrameKind = 'data' | 'end' | 'error';
export const USAGE_EXPORT_ACK = 'ok';
export const USAGE_EXPORT_ABORT = 'abort';
/** Upper bound of one data frame (bytes of CSV text); well under NATS's default 1 MB max_payload. */
export const USAGE_EXPORT_FRAME_BYTES = 256 * 1024;

export const UsageExportStartRequest = z.object({
  scope: UsageScope,
  filters: UsageLogFilters.extend({ from: instant, to: instant }),
  /** A NATS inbox the caller subscribed to (no wildcards). */
  replyTo: z
    .string()
    .min(1)
    .max(256)
    .regex(/^[A-Za-z0-9_.-]+$/, 'must be a plain NATS subject (no wildcards)'),
  /** How long the usage service waits for the caller to take one frame before giving up. */
  frameTimeoutMs: z.number().int().min(1000).max(600_000).default(120_000),
});
export type UsageExportStartRequest = z.input<typeof UsageExportStartRequest>;

export interface UsageExportStarted {
  exportId: string;
  /** The CSV header line's column names, in order. */
  columns: string[];
}

/** Sent in the `end` frame's body. */
export interface UsageExportSummary {
  exportId: string;
  rows: number;
}

// ---- operators -------------------------------------------------------------------------------------
export const UsageChannelStatsRequest = z.object({
  from: instant,
  to: instant,
  model: z.string().min(1).max(200).optional(),
});
export type UsageChannelStatsRequest = z.infer<typeof UsageChannelStatsRequest>;

export interface UsageChannelStats {
  channelId: string;
  channelName: string;
  /** Requests this channel answered (the serving channel on the usage row). */
  requests: number;
  failedRequests: number;
  /** Every time the router tried this channel, failovers included, and how many of those failed. */
  attempts: number;
  failedAttempts: number;
  /** failedAttempts / attempts (0 when never tried). */
  errorRate: number;
  avgLatencyMs: number | null;
  avgTtftMs: number | null;
  inputTokens: number;
  outputTokens: number;
  /** What the customers were charged for the requests it answered. */
  costUsd: number;
  /** The same tokens at the catalog (provider list) price, before plan multipliers. */
  upstreamCostUsd: number;
  marginUsd: number;
}

export interface UsageChannelStatsView {
  from: string;
  to: string;
  channels: UsageChannelStats[];
}

export interface UsageRpcContracts {
  [Subjects.usageLogsList]: {
    request: UsageLogsListRequest;
    response: UsageLogsPage<UsageLogView | OperatorUsageLogView>;
  };
  [Subjects.usageSummaryGet]: { request: UsageSummaryRequest; response: UsageSummary };
  [Subjects.usageDashboardGet]: { request: UsageDashboardRequest; response: UsageDashboard };
  [Subjects.usageExportStart]: { request: UsageExportStartRequest; response: UsageExportStarted };
  [Subjects.usageChannelStatsGet]: { request: UsageChannelStatsRequest; response: UsageChannelStatsView };
}
