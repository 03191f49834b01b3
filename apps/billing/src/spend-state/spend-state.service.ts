import { Injectable, Logger, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { SpendCounterKeys, spendWindow, SpendWindowKinds, type SpendWindowKind } from '@torouter/contracts';
import { Redis } from 'ioredis';
import type { BillingAccount } from '../accounts/billing-accounts.repository';
import { BillingAccountsRepository } from '../accounts/billing-accounts.repository';
import { KeysClient } from '../settlement/keys.client';
import { SpendRepository, type Versioned } from './spend.repository';

/** One counter's settled value as Postgres has it, to be written to Redis if newer. */
export interface CounterWrite {
  key: string;
  value: number;
  version: number;
  /** Window counters expire a day after their window closes; 0 = keep. */
  ttlMs: number;
  /** Only release reservations on this counter; never create or change its value. */
  releaseOnly?: boolean;
}

/**
 * Writes counters (only when the Postgres version is newer than Redis's: replays and races never move a
 * value backwards; version -1 = release only) and removes the given reservations from each — in one script, so the settled cost
 * replaces the router's hold atomically. Numbers are passed as strings: Lua formats large numbers with
 * exponents, which integer commands refuse.
 */
const writeCountersLua = `
local k = tonumber(ARGV[1])
local n = #KEYS / 3
local applied = 0
for i = 0, n - 1 do
  local c, z, a = KEYS[i * 3 + 1], KEYS[i * 3 + 2], KEYS[i * 3 + 3]
  for j = 2, k + 1 do
    local id = ARGV[j]
    local amt = redis.call('HGET', a, id)
    if amt then
      redis.call('HINCRBY', c, 'r', '-' .. amt)
      redis.call('HDEL', a, id)
    end
    redis.call('ZREM', z, id)
  end
  local base = k + 2 + i * 3
  local v, ver, ttl = ARGV[base], ARGV[base + 1], tonumber(ARGV[base + 2])
  local cur = redis.call('HGET', c, 'ver')
  if ver ~= '-1' and ((not cur) or tonumber(cur) < tonumber(ver)) then
    redis.call('HSET', c, 'v', v, 'ver', ver)
    applied = applied + 1
  end
  if ttl > 0 then
    redis.call('PEXPIRE', c, ttl)
    redis.call('PEXPIRE', z, ttl)
    redis.call('PEXPIRE', a, ttl)
  end
end
return applied
`;

/** Drops expired reservations of one counter, then reads what is still reserved. */
const reservedLua = `
local c, z, a = KEYS[1], KEYS[2], KEYS[3]
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local expired = redis.call('ZRANGEBYSCORE', z, '-inf', now)
for _, id in ipairs(expired) do
  local amt = redis.call('HGET', a, id)
  if amt then
    redis.call('HINCRBY', c, 'r', '-' .. amt)
    redis.call('HDEL', a, id)
  end
  redis.call('ZREM', z, id)
end
return redis.call('HGET', c, 'r') or '0'
`;

type ScriptedRedis = Redis & {
  billingWriteCounters(...args: Array<string | number>): Promise<number>;
  billingReserved(c: string, z: string, a: string): Promise<string>;
};

const dayMs = 24 * 3600_000;
const chunk = 50;

export function accountCounter(
  a: Pick<BillingAccount, 'accountId' | 'balanceMicro' | 'version'>,
): CounterWrite {
  return { key: SpendCounterKeys.account(a.accountId), value: a.balanceMicro, version: a.version, ttlMs: 0 };
}

export function keyCounter(keyId: string, s: Versioned): CounterWrite {
  return { key: SpendCounterKeys.key(keyId), value: s.spentMicro, version: s.version, ttlMs: 0 };
}

export function windowCounter(
  accountId: string,
  planId: string,
  kind: SpendWindowKind,
  windowStart: Date,
  s: Versioned,
  now = Date.now(),
): CounterWrite {
  const { end } = spendWindow(kind, windowStart);
  return {
    key: SpendCounterKeys.window(accountId, planId, kind, windowStart),
    value: s.spentMicro,
    version: s.version,
    ttlMs: Math.max(end.getTime() - now, 0) + dayMs,
  };
}

/**
 * Billing's side of the spend counters the routers check per request (layout: `SpendCounterKeys` in the
 * billing contract). Postgres is the truth; Redis holds a versioned copy plus the routers' reservations.
 * Every committed change is written through at once; a write that fails (Redis down) is retried in the
 * background, and the whole copy is rebuilt from Postgres when billing starts.
 */
@Injectable()
export class SpendStateService implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(SpendStateService.name);
  private readonly redis: ScriptedRedis;
  /** Writes that failed, latest per counter, retried until Redis takes them. */
  private readonly deferred = new Map<string, CounterWrite>();
  private retryTimer?: NodeJS.Timeout;
  private rebuilding?: Promise<void>;

  constructor(
    redis: Redis,
    private readonly accounts: BillingAccountsRepository,
    private readonly spend: SpendRepository,
    private readonly keys: KeysClient,
  ) {
    redis.defineCommand('billingWriteCounters', { lua: writeCountersLua });
    redis.defineCommand('billingReserved', { lua: reservedLua, numberOfKeys: 3 });
    this.redis = redis as ScriptedRedis;
  }

  onApplicationBootstrap(): void {
    this.rebuilding = this.rebuildAll().catch((e: unknown) =>
      this.logger.error(`rebuilding the Redis spend counters failed: ${String(e)}`),
    );
    this.retryTimer = setInterval(() => void this.flushDeferred(), 2000);
    this.retryTimer.unref();
  }

  async onModuleDestroy(): Promise<void> {
    clearInterval(this.retryTimer);
    await this.rebuilding;
  }

  /**
   * Writes counters and releases reservations atomically. Throws when Redis is unreachable (callers that
   * must not lose the release, like settlement, retry the whole job).
   */
  async write(counters: CounterWrite[], releaseIds: string[] = []): Promise<void> {
    for (let i = 0; i < counters.length; i += chunk) {
      const part = counters.slice(i, i + chunk);
      const keys = part.flatMap((c) => [c.key, `${c.key}:z`, `${c.key}:a`]);
      const args = [
        String(releaseIds.length),
        ...releaseIds,
        ...part.flatMap((c) => [String(c.value), c.releaseOnly ? '-1' : String(c.version), String(c.ttlMs)]),
      ];
      await this.redis.billingWriteCounters(keys.length, ...keys, ...args);
    }
  }

  /** For changes already committed in Postgres: write now, or keep retrying in the background. */
  async writeSoon(counters: CounterWrite[]): Promise<void> {
    try {
      await this.write(counters);
    } catch (e) {
      this.logger.warn(`Redis spend counters not updated yet (will retry): ${String(e)}`);
      for (const c of counters) {
        const prior = this.deferred.get(c.key);
        if (!prior || prior.version < c.version) this.deferred.set(c.key, c);
      }
    }
  }

  private async flushDeferred(): Promise<void> {
    if (!this.deferred.size) return;
    const pending = [...this.deferred.values()];
    try {
      await this.write(pending);
      for (const c of pending) if (this.deferred.get(c.key) === c) this.deferred.delete(c.key);
    } catch {
      // still down; next tick
    }
  }

  /** What requests in flight (or completed, not yet settled) hold on the account's balance. */
  async reservedMicro(accountId: string): Promise<number> {
    const c = SpendCounterKeys.account(accountId);
    const r = Number(await this.redis.billingReserved(c, `${c}:z`, `${c}:a`));
    return Number.isSafeInteger(r) && r > 0 ? r : 0;
  }

  /** Same, but 0 when Redis cannot say (callers that must still work while Redis is down). */
  async reservedMicroOrZero(accountId: string): Promise<number> {
    try {
      return await this.reservedMicro(accountId);
    } catch (e) {
      this.logger.warn(`could not read reservations of ${accountId}: ${String(e)}`);
      return 0;
    }
  }

  /** Writes one account's counters (balance, a key's spend, a plan's open windows) from Postgres. */
  async load(accountId: string, keyId: string | null, planId: string | null, at?: Date): Promise<void> {
    const account = await this.accounts.ensure(accountId);
    const plan = planId ?? account.defaultPlanId;
    const now = new Date();
    const instants = at && !Number.isNaN(at.getTime()) ? [now, at] : [now];
    const counters: CounterWrite[] = [accountCounter(account)];
    if (keyId) {
      let spent = await this.spend.keySpend(keyId);
      if (spent.version === 0) {
        // A key billing has not settled anything for yet, e.g. a rotated key, which keeps its
        // predecessor's spend: start from what keys says (a rotation never resets a cap).
        await this.spend.seedKeySpend(keyId, accountId, await this.keys.spentMicro(accountId, keyId));
        spent = await this.spend.keySpend(keyId);
      }
      counters.push(keyCounter(keyId, spent));
    }
    const seen = new Set<string>();
    for (const instant of instants) {
      for (const kind of SpendWindowKinds) {
        const { start } = spendWindow(kind, instant);
        if (seen.has(`${kind}${start.getTime()}`)) continue;
        seen.add(`${kind}${start.getTime()}`);
        const s = await this.spend.windowSpend({ accountId, planId: plan, kind, windowStart: start });
        counters.push(windowCounter(accountId, plan, kind, start, s, now.getTime()));
      }
    }
    await this.write(counters);
  }

  /** The whole Redis copy from Postgres (at start: Redis may have lost data or missed writes). */
  async rebuildAll(): Promise<void> {
    let written = 0;
    for await (const batch of this.accounts.all()) {
      await this.write(batch.map(accountCounter));
      written += batch.length;
    }
    for await (const batch of this.spend.allKeySpend()) {
      await this.write(batch.map((k) => keyCounter(k.keyId, k)));
      written += batch.length;
    }
    const now = Date.now();
    for await (const batch of this.spend.recentWindows(new Date(now - 32 * dayMs))) {
      const open = batch.filter((w) => spendWindow(w.kind, w.windowStart).end.getTime() > now);
      await this.write(open.map((w) => windowCounter(w.accountId, w.planId, w.kind, w.windowStart, w, now)));
      written += open.length;
    }
    this.logger.log(`spend counters rebuilt in Redis from Postgres (${written} counters)`);
  }
}
