import { Inject, Injectable } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { REDIS } from '../tokens';

/**
 * Reserve: for every counter (KEYS: the counter hash, its `:z` expiry zset and `:a` amount hash), drop
 * expired reservations, then check `v`/`r` against the request's worst-case cost — balance mode `b`:
 * v − r must cover it (and be > 0); cap mode `c`: v + r + cost ≤ cap (and v + r < cap). Only when every
 * counter passes is the cost reserved on all of them, in this one atomic script (so N concurrent
 * requests, on any number of router replicas, can never reserve past a limit). Time is Redis's.
 *
 * Returns {'ok'} | {'missing', i…} (counters billing has not loaded) | {'short', i…} (counters that
 * refuse) | {'dup'} (the reservation id is in use). Amounts are passed as strings (Lua would format large
 * numbers with exponents, which HINCRBY refuses).
 */
const reserveLua = `
local id, cost, ttl = ARGV[1], ARGV[2], tonumber(ARGV[3])
local costN = tonumber(cost)
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local n = #KEYS / 3
local missing, short = {}, {}
for i = 0, n - 1 do
  local c, z, a = KEYS[i * 3 + 1], KEYS[i * 3 + 2], KEYS[i * 3 + 3]
  local expired = redis.call('ZRANGEBYSCORE', z, '-inf', now)
  for _, old in ipairs(expired) do
    local amt = redis.call('HGET', a, old)
    if amt then
      redis.call('HINCRBY', c, 'r', '-' .. amt)
      redis.call('HDEL', a, old)
    end
    redis.call('ZREM', z, old)
  end
  if redis.call('HEXISTS', a, id) == 1 then return {'dup'} end
  if not redis.call('HGET', c, 'ver') then
    missing[#missing + 1] = i
  else
    local v = tonumber(redis.call('HGET', c, 'v') or '0')
    local r = tonumber(redis.call('HGET', c, 'r') or '0')
    local mode = ARGV[4 + i * 2]
    if mode == 'b' then
      local available = v - r
      if available <= 0 or available < costN then short[#short + 1] = i end
    else
      local cap = tonumber(ARGV[5 + i * 2])
      local used = v + r
      if used >= cap or used + costN > cap then short[#short + 1] = i end
    end
  end
end
if #missing > 0 then table.insert(missing, 1, 'missing') return missing end
if #short > 0 then table.insert(short, 1, 'short') return short end
for i = 0, n - 1 do
  local c, z, a = KEYS[i * 3 + 1], KEYS[i * 3 + 2], KEYS[i * 3 + 3]
  redis.call('HINCRBY', c, 'r', cost)
  redis.call('HSET', a, id, cost)
  redis.call('ZADD', z, now + ttl, id)
end
return {'ok'}
`;

/**
 * Replace: the reservation `id` on every counter becomes `amount` (the exact cost; 0 = released) and
 * lives `ttl` ms more — until billing settles the request and removes it. A reservation that is gone
 * (settled already, or expired) is left gone.
 */
const replaceLua = `
local id, amount, ttl = ARGV[1], ARGV[2], tonumber(ARGV[3])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local n = #KEYS / 3
for i = 0, n - 1 do
  local c, z, a = KEYS[i * 3 + 1], KEYS[i * 3 + 2], KEYS[i * 3 + 3]
  local old = redis.call('HGET', a, id)
  if old then
    redis.call('HINCRBY', c, 'r', '-' .. old)
    if amount == '0' then
      redis.call('HDEL', a, id)
      redis.call('ZREM', z, id)
    else
      redis.call('HINCRBY', c, 'r', amount)
      redis.call('HSET', a, id, amount)
      redis.call('ZADD', z, now + ttl, id)
    end
  end
end
return 'ok'
`;

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

function keysOf(counters: SpendCounter[]): string[] {
  return counters.flatMap((c) => [c.key, `${c.key}:z`, `${c.key}:a`]);
}

/** The router's side of the spend counters in Redis (billing's side: `SpendStateService`). */
@Injectable()
export class SpendCounters {
  private readonly redis: ScriptedRedis;

  constructor(@Inject(REDIS) redis: Redis) {
    redis.defineCommand('spendReserve', { lua: reserveLua });
    redis.defineCommand('spendReplace', { lua: replaceLua });
    this.redis = redis as ScriptedRedis;
  }

  async reserve(
    counters: SpendCounter[],
    id: string,
    amountMicro: number,
    ttlMs: number,
  ): Promise<ReserveResult> {
    const keys = keysOf(counters);
    const args = counters.flatMap((c) =>
      c.check.mode === 'balance' ? ['b', '0'] : ['c', String(c.check.capMicro)],
    );
    const res = await this.redis.spendReserve(
      keys.length,
      ...keys,
      id,
      String(amountMicro),
      String(ttlMs),
      ...args,
    );
    const [kind, ...rest] = res;
    const indices = rest.map(Number);
    if (kind === 'ok') return { kind: 'ok' };
    if (kind === 'missing') return { kind: 'missing', counters: indices };
    if (kind === 'short') return { kind: 'short', counters: indices };
    return { kind: 'duplicate' };
  }

  async replace(counters: SpendCounter[], id: string, amountMicro: number, ttlMs: number): Promise<void> {
    const keys = keysOf(counters);
    await this.redis.spendReplace(keys.length, ...keys, id, String(amountMicro), String(ttlMs));
  }
}
