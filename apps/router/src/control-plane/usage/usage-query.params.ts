import {
  DomainError,
  ErrorCodes,
  USAGE_LOGS_MAX_LIMIT,
  UsageDashboardRange,
  UsageStatus,
} from '@torouter/contracts';
import { z } from 'zod';

const DAY_MS = 86_400_000;
/** Summaries and exports without a window cover the last 30 UTC days, today included. */
export const DEFAULT_WINDOW_DAYS = 30;

const dateOnly = /^(\d{4})-(\d{2})-(\d{2})$/;
const dateTime = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})?$/i;

/** A parsed `from`/`to` value: a whole UTC day, or an instant. */
export type TimeBound = { kind: 'date'; day: Date } | { kind: 'instant'; at: Date };

/**
 * Parses an ISO 8601 date (`2025-01-31`) or date-time (`2025-01-31T12:00:00Z`; no offset = UTC). Returns
 * null when it is neither or names a day that does not exist (2025-02-30).
 */
export function parseTimeBound(value: string): TimeBound | null {
  const d = dateOnly.exec(value);
  if (d) {
    const day = new Date(Date.UTC(Number(d[1]), Number(d[2]) - 1, Number(d[3])));
    return day.toISOString().slice(0, 10) === value ? { kind: 'date', day } : null;
  }
  const t = dateTime.exec(value);
  if (!t) return null;
  const datePart = `${t[1]}-${t[2]}-${t[3]}`;
  const probe = new Date(`${datePart}T00:00:00Z`);
  if (Number.isNaN(probe.getTime()) || probe.toISOString().slice(0, 10) !== datePart) return null;
  if (Number(t[4]) > 23 || Number(t[5]) > 59 || Number(t[6] ?? 0) > 59) return null;
  const at = new Date(t[8] ? value : `${value}Z`);
  return Number.isNaN(at.getTime()) ? null : { kind: 'instant', at };
}

const timeBound = z
  .string()
  .refine((v) => parseTimeBound(v) !== null, 'must be an ISO 8601 date (2025-01-31) or date-time (UTC)');

const uuid = z.string().uuid('must be a UUID');
const model = z.string().trim().min(1).max(200);
const limit = z.coerce
  .number({ invalid_type_error: 'must be an integer' })
  .int('must be an integer')
  .min(1, 'must be at least 1')
  .max(USAGE_LOGS_MAX_LIMIT, `must be at most ${USAGE_LOGS_MAX_LIMIT}`)
  .default(50);

const range = { from: timeBound.optional(), to: timeBound.optional() };

export const UsageLogsQuery = z.object({
  ...range,
  keyId: uuid.optional(),
  model: model.optional(),
  status: UsageStatus.optional(),
  limit,
  cursor: z.string().min(1).max(300).optional(),
});
export type UsageLogsQuery = z.output<typeof UsageLogsQuery>;

export const AdminUsageLogsQuery = UsageLogsQuery.extend({
  accountId: uuid.optional(),
  channel: z.string().trim().min(1).max(100).optional(),
});
export type AdminUsageLogsQuery = z.output<typeof AdminUsageLogsQuery>;

export const UsageSummaryQuery = z.object({
  ...range,
  groupBy: z.enum(['day', 'hour', 'model', 'key']).default('day'),
  keyId: uuid.optional(),
  model: model.optional(),
});
export type UsageSummaryQuery = z.output<typeof UsageSummaryQuery>;

export const AdminUsageSummaryQuery = UsageSummaryQuery.extend({
  groupBy: z.enum(['day', 'hour', 'model', 'key', 'account']).default('day'),
  accountId: uuid.optional(),
});
export type AdminUsageSummaryQuery = z.output<typeof AdminUsageSummaryQuery>;

export const UsageDashboardQuery = z.object({ range: UsageDashboardRange.default('7d') });
export type UsageDashboardQuery = z.output<typeof UsageDashboardQuery>;

export const AdminUsageDashboardQuery = UsageDashboardQuery.extend({ accountId: uuid.optional() });
export type AdminUsageDashboardQuery = z.output<typeof AdminUsageDashboardQuery>;

export const UsageExportQuery = z.object({
  ...range,
  keyId: uuid.optional(),
  model: model.optional(),
  status: UsageStatus.optional(),
});
export type UsageExportQuery = z.output<typeof UsageExportQuery>;

export const AdminUsageExportQuery = UsageExportQuery.extend({
  accountId: uuid.optional(),
  channel: z.string().trim().min(1).max(100).optional(),
});
export type AdminUsageExportQuery = z.output<typeof AdminUsageExportQuery>;

export const ChannelStatsQuery = z.object({ ...range, model: model.optional() });
export type ChannelStatsQuery = z.output<typeof ChannelStatsQuery>;

/** Start of a `from` bound: the day's midnight UTC, or the instant. */
function lower(b: TimeBound): Date {
  return b.kind === 'date' ? b.day : b.at;
}

/** End (exclusive) of a `to` bound: a date includes that whole day; a date-time is exclusive. */
function upper(b: TimeBound): Date {
  return b.kind === 'date' ? new Date(b.day.getTime() + DAY_MS) : b.at;
}

function invalid(field: string, message: string): DomainError {
  return new DomainError(ErrorCodes.VALIDATION_FAILED, `${field}: ${message}`, {
    fields: [{ field, message }],
  });
}

/** Resolves optional from/to to an absolute [from, to) with no default (the logs list). */
export function openWindow(q: { from?: string; to?: string }): { from?: string; to?: string } {
  const from = q.from ? lower(parseTimeBound(q.from)!) : undefined;
  const to = q.to ? upper(parseTimeBound(q.to)!) : undefined;
  if (from && to && to <= from) throw invalid('to', 'must be after from');
  return { from: from?.toISOString(), to: to?.toISOString() };
}

/**
 * Resolves from/to to an absolute [from, to), defaulting to the last DEFAULT_WINDOW_DAYS UTC days
 * (today included) — or that many days before `to`, or from `from` to the end of today.
 */
export function closedWindow(
  q: { from?: string; to?: string },
  now = new Date(),
): { from: string; to: string } {
  const endOfToday = new Date(Math.floor(now.getTime() / DAY_MS) * DAY_MS + DAY_MS);
  const to = q.to ? upper(parseTimeBound(q.to)!) : endOfToday;
  const from = q.from
    ? lower(parseTimeBound(q.from)!)
    : new Date(Math.ceil(to.getTime() / DAY_MS) * DAY_MS - DEFAULT_WINDOW_DAYS * DAY_MS);
  if (to <= from) throw invalid('to', 'must be after from');
  return { from: from.toISOString(), to: to.toISOString() };
}

/** `usage-<start>_<end>.csv`: the first and last UTC day the window covers. */
export function exportFileName(window: { from: string; to: string }): string {
  const start = window.from.slice(0, 10);
  const end = new Date(new Date(window.to).getTime() - 1).toISOString().slice(0, 10);
  return `usage-${start}_${end}.csv`;
}
