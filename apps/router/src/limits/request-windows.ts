import { Inject, Injectable } from '@nestjs/common';
import type { RateLimits } from '@torouter/contracts';
import type { Redis } from 'ioredis';
import { REDIS } from '../tokens';
import { adjustScript, windowsScript } from './request-windows.lua';

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
 * Request windows and RPM/TPM in Redis: one atomic Lua call checks every enabled window and counts the
 * request in all of them, or in none. Shared by every router replica (same Redis, same clock).
 */
@Injectable()
export class RequestWindows {
  private readonly check: ScriptFn;
  private readonly adjustFn: ScriptFn;

  constructor(@Inject(REDIS) redis: Redis) {
    redis.defineCommand('torouterKeyWindows', { numberOfKeys: 1, lua: windowsScript });
    redis.defineCommand('torouterKeyWindowsAdjust', { numberOfKeys: 1, lua: adjustScript });
    const commands = redis as unknown as Record<string, ScriptFn>;
    this.check = commands.torouterKeyWindows.bind(redis);
    this.adjustFn = commands.torouterKeyWindowsAdjust.bind(redis);
  }

  /** Redis key of a key's windows (the connection adds the namespace prefix). */
  static redisKey(limitsId: string): string {
    return `keywin:${limitsId}`;
  }

  /** Counts one request (and `tokens` for TPM) if every enabled window has room; else counts nothing. */
  admit(limitsId: string, limits: RateLimits, tokens: number): Promise<WindowsVerdict> {
    return this.run(true, limitsId, limits, tokens);
  }

  /** Reads the windows without counting anything. */
  peek(limitsId: string, limits: RateLimits): Promise<WindowsVerdict> {
    return this.run(false, limitsId, limits, 0);
  }

  /** Adds `delta` to the buckets a request was counted in (negative: give back). */
  async adjust(limitsId: string, changes: WindowChange[]): Promise<void> {
    const args = windowAdjustArgs(changes);
    if (args.length) await this.adjustFn(RequestWindows.redisKey(limitsId), ...args);
  }

  private async run(
    count: boolean,
    limitsId: string,
    limits: RateLimits,
    tokens: number,
  ): Promise<WindowsVerdict> {
    const args = windowCheckArgs(limits, tokens);
    if (args.length === 0) return { admitted: true, now: Date.now(), waitMs: 0, windows: [] };
    const raw = (await this.check(RequestWindows.redisKey(limitsId), count ? '1' : '0', ...args)) as Array<
      string | number
    >;
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

/** `windows_check`'s arguments for a request costing one request and `tokens` tokens (TPM). */
export function windowCheckArgs(limits: RateLimits, tokens: number): Array<string | number> {
  const args: Array<string | number> = [];
  for (const name of enabledWindows(limits)) {
    const s = windowSpecs[name];
    args.push(s.prefix, limits[name], s.windowMs, s.bucketMs, s.unit === 'tokens' ? tokens : 1);
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
