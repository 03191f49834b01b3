import { Inject, Injectable } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { REDIS } from '../tokens';
import { replaceScript, reserveScript } from './spend-counters.lua';

export type CounterMode = { mode: 'balance' } | { mode: 'cap'; capMicro: number };

export interface SpendCounter {
  /** Unprefixed key (`SpendCounterKeys`); the connection's namespace prefix is added by ioredis. */
  key: string;
  check: CounterMode;
}

export type ReserveResult =
  | { kind: 'ok' }
  | { kind: 'missing'; counters: number[] }
  | { kind: 'short'; counters: number[] }
  | { kind: 'duplicate' };

type ScriptedRedis = Redis & {
  spendReserve(...args: Array<string | number>): Promise<Array<string | number>>;
  spendReplace(...args: Array<string | number>): Promise<string>;
};

/** The Redis keys of counters, three each, in the order `spendLua` expects. */
export function spendKeysOf(counters: SpendCounter[]): string[] {
  return counters.flatMap((c) => [c.key, `${c.key}:z`, `${c.key}:a`]);
}

/** The check modes of counters, two arguments each, in the order `spendLua` expects. */
export function spendCheckArgs(counters: SpendCounter[]): string[] {
  return counters.flatMap((c) => (c.check.mode === 'balance' ? ['b', '0'] : ['c', String(c.check.capMicro)]));
}

/** `spend_check`'s verdict, as the caller sees it. */
export function reserveResultOf(kind: string, counters: number[]): ReserveResult {
  if (kind === 'ok') return { kind: 'ok' };
  if (kind === 'missing') return { kind: 'missing', counters };
  if (kind === 'short') return { kind: 'short', counters };
  return { kind: 'duplicate' };
}

/** The router's side of the spend counters in Redis (billing's side: `SpendStateService`). */
@Injectable()
export class SpendCounters {
  private readonly redis: ScriptedRedis;

  constructor(@Inject(REDIS) redis: Redis) {
    redis.defineCommand('spendReserve', { lua: reserveScript });
    redis.defineCommand('spendReplace', { lua: replaceScript });
    this.redis = redis as ScriptedRedis;
  }

  async reserve(
    counters: SpendCounter[],
    id: string,
    amountMicro: number,
    ttlMs: number,
  ): Promise<ReserveResult> {
    const keys = spendKeysOf(counters);
    const args = spendCheckArgs(counters);
    const res = await this.redis.spendReserve(
      keys.length,
      ...keys,
      id,
      String(amountMicro),
      String(ttlMs),
      ...args,
    );
    const [kind, ...rest] = res;
    return reserveResultOf(String(kind), rest.map(Number));
  }

  async replace(counters: SpendCounter[], id: string, amountMicro: number, ttlMs: number): Promise<void> {
    const keys = spendKeysOf(counters);
    await this.redis.spendReplace(keys.length, ...keys, id, String(amountMicro), String(ttlMs));
  }
}
