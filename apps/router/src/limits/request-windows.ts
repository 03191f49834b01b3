import { Inject, Injectable } from '@nestjs/common';
import type { RateLimits } from '@torouter/contracts';
import type { Redis } from 'ioredis';
import { REDIS } from '../tokens';
import { windowsPeekScript } from './request-windows.lua';

export type WindowName = keyof RateLimits;

interface WindowSpec {
  /** Field prefix in the key's hash (persistent: never rename). */
  prefix: string;
  windowMs: number;
  bucketMs: number;
  unit: 'requests' | 'tokens';
  label: string;
}

/**
 * The five sliding windows. Bucket sizes bound both memory (≤ window/bucket + 1 fields per window and
 * key, whatever the limit) and how late a count may leave (≤ one bucket).
 */
export const windowSpecs: Record<WindowName, WindowSpec> = {
  per5h: {
    prefix: 'h5',
    windowMs: 5 * 3600_000,
    bucketMs: 5 * 60_000,
    unit: 'requests',
    label: 'requests per 5 hours',
  },
  per1d: {
    prefix: 'd1',
    windowMs: 24 * 3600_000,
    bucketMs: 15 * 60_000,
    unit: 'requests',
    label: 'requests per day',
  },
  per7d: {
    prefix: 'd7',
    windowMs: 7 * 24 * 3600_000,
    bucketMs: 3600_000,
    unit: 'requests',
    label: 'requests per 7 days',
  },
  rpm: {
    prefix: 'm',
    windowMs: 60_000,
    bucketMs: 1_000,
    unit: 'requests',
    label: 'requests per minute (RPM)',
  },
  tpm: { prefix: 't', windowMs: 60_000, bucketMs: 1_000, unit: 'tokens', label: 'tokens per minute (TPM)' },
};

const byPrefix = new Map(Object.entries(windowSpecs).map(([name, s]) => [s.prefix, name as WindowName]));

/** One window's state as the script saw it (after counting, when the request was admitted). */
export interface WindowState {
  name: WindowName;
  limit: number;
  used: number;
  remaining: number;
  /** Until the window is empty again (0 when nothing is counted). */
  resetMs: number;
  /** The hash field this request was counted in. */
  field: string;
}

export interface WindowsVerdict {
  admitted: boolean;
  /** Redis time of the check. */
  now: number;
  /** When refused: ms until every full window has room for this request; -1 = never (cost > limit). */
  waitMs: number;
  windows: WindowState[];
}

type ScriptFn = (key: string, ...args: Array<string | number>) => Promise<unknown>;

/** The enabled windows of a key, in a fixed order (requests first, then tokens). */
export function enabledWindows(limits: RateLimits): WindowName[] {
  return (Object.keys(windowSpecs) as WindowName[]).filter((w) => limits[w] > 0);
}

/**
 * Reads a key's request windows and RPM/TPM in Redis (`GET /api/v1/key`). Requests are checked, counted and
 * corrected by the quota scripts (`QuotaStore`); both share the windows' Lua and the key's hash, so every
 * router replica sees one count (same Redis, same clock).
 */
@Injectable()
export class RequestWindows {
  private readonly peekFn: ScriptFn;

  constructor(@Inject(REDIS) redis: Redis) {
    redis.defineCommand('torouterKeyWindowsPeek', { numberOfKeys: 1, lua: windowsPeekScript });
    this.peekFn = (redis as unknown as Record<string, ScriptFn>).torouterKeyWindowsPeek.bind(redis);
  }

  /** Redis key of a key's windows (the connection adds the namespace prefix). */
  static redisKey(limitsId: string): string {
    return `keywin:${limitsId}`;
  }

  /** Reads the windows without counting anything. */
  async peek(limitsId: string, limits: RateLimits): Promise<WindowsVerdict> {
    const args = windowCheckArgs(limits, 0, 0);
    if (args.length === 0) return { admitted: true, now: Date.now(), waitMs: 0, windows: [] };
    const raw = (await this.peekFn(RequestWindows.redisKey(limitsId), ...args)) as Array<string | number>;
    return {
      admitted: Number(raw[0]) === 1,
      now: Number(raw[1]),
      waitMs: Number(raw[2]),
      windows: windowReportOf(raw, 3),
    };
  }
}

/** A change to what a request counted in one window's bucket. */
export interface WindowChange {
  window: WindowName;
  field: string;
  delta: number;
}

/**
 * `windows_check`'s arguments for a request costing `requests` (1 to count one, 0 to only read) and
 * `tokens` tokens (TPM).
 */
export function windowCheckArgs(limits: RateLimits, tokens: number, requests = 1): Array<string | number> {
  const args: Array<string | number> = [];
  for (const name of enabledWindows(limits)) {
    const s = windowSpecs[name];
    args.push(s.prefix, limits[name], s.windowMs, s.bucketMs, s.unit === 'tokens' ? tokens : requests);
  }
  return args;
}

/** The window states `windows_commit` appended to a script's answer, from index `from` on. */
export function windowReportOf(raw: Array<string | number>, from: number): WindowState[] {
  const windows: WindowState[] = [];
  for (let i = from; i + 4 < raw.length; i += 5) {
    const name = byPrefix.get(String(raw[i]))!;
    const limit = Number(raw[i + 1]);
    const used = Number(raw[i + 2]);
    windows.push({
      name,
      limit,
      used,
      remaining: Math.max(0, limit - used),
      resetMs: Math.max(0, Number(raw[i + 3])),
      field: `${windowSpecs[name].prefix}:${String(raw[i + 4])}`,
    });
  }
  return windows;
}

/** `windows_adjust`'s arguments (zero deltas dropped). */
export function windowAdjustArgs(changes: WindowChange[]): Array<string | number> {
  const args: Array<string | number> = [];
  for (const c of changes) {
    if (c.delta === 0) continue;
    const spec = windowSpecs[c.window];
    // A give-back never moves to another bucket; a late addition (actual > reserved tokens) may.
    args.push(c.field, c.delta, c.delta > 0 ? spec.bucketMs : 0, spec.windowMs);
  }
  return args;
}
