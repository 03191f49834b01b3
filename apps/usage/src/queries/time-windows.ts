const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;

/** Where a slice of a time window is read from: the daily or hourly rollup, or the raw rows. */
export type WindowSource = 'daily' | 'hourly' | 'raw';

export interface WindowSegment {
  source: WindowSource;
  from: Date;
  to: Date;
}

export const floorHour = (d: Date) => new Date(Math.floor(d.getTime() / HOUR_MS) * HOUR_MS);
export const ceilHour = (d: Date) => new Date(Math.ceil(d.getTime() / HOUR_MS) * HOUR_MS);
export const floorDay = (d: Date) => new Date(Math.floor(d.getTime() / DAY_MS) * DAY_MS);
export const ceilDay = (d: Date) => new Date(Math.ceil(d.getTime() / DAY_MS) * DAY_MS);
export const addDays = (d: Date, days: number) => new Date(d.getTime() + days * DAY_MS);

/** 'YYYY-MM-DD' of an instant, in UTC. */
export const utcDate = (d: Date) => d.toISOString().slice(0, 10);

/**
 * Splits [from, to) into the fewest reads that answer it exactly: whole UTC days from the daily rollup
 * (when `useDaily`), whole hours from the hourly rollup, and the partial hours at either edge from the raw
 * rows. So a summary is exact for any window while reading raw rows for at most two partial hours.
 */
export function splitWindow(from: Date, to: Date, useDaily: boolean): WindowSegment[] {
  if (to <= from) return [];
  const segments: WindowSegment[] = [];
  const hoursAndRaw = (a: Date, b: Date) => {
    if (b <= a) return;
    const h0 = ceilHour(a);
    const h1 = floorHour(b);
    if (h0 >= h1) {
      segments.push({ source: 'raw', from: a, to: b });
      return;
    }
    if (a < h0) segments.push({ source: 'raw', from: a, to: h0 });
    segments.push({ source: 'hourly', from: h0, to: h1 });
    if (h1 < b) segments.push({ source: 'raw', from: h1, to: b });
  };
  if (!useDaily) {
    hoursAndRaw(from, to);
    return segments;
  }
  const d0 = ceilDay(from);
  const d1 = floorDay(to);
  if (d0 >= d1) {
    hoursAndRaw(from, to);
    return segments;
  }
  hoursAndRaw(from, d0);
  segments.push({ source: 'daily', from: d0, to: d1 });
  hoursAndRaw(d1, to);
  return segments;
}
