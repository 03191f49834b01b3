import type { PlanPeriod } from '@torouter/contracts';

/**
 * The end of a billing period that starts at `start`: one UTC day, seven days, or one calendar month
 * (Jan 31 + 1 month = Feb 28/29: the day is clamped to the target month's last day).
 */
export function addPeriod(start: Date, period: PlanPeriod): Date {
  if (period === 'day') return new Date(start.getTime() + 24 * 3600_000);
  if (period === 'week') return new Date(start.getTime() + 7 * 24 * 3600_000);
  const y = start.getUTCFullYear();
  const m = start.getUTCMonth() + 1;
  const lastDay = new Date(Date.UTC(y, m + 1, 0)).getUTCDate();
  const day = Math.min(start.getUTCDate(), lastDay);
  return new Date(
    Date.UTC(
      y,
      m,
      day,
      start.getUTCHours(),
      start.getUTCMinutes(),
      start.getUTCSeconds(),
      start.getUTCMilliseconds(),
    ),
  );
}
