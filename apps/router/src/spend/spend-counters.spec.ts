import { Redis } from 'ioredis';
import { randomBytes } from 'node:crypto';
import { QuotaStore } from '../quota/quota.store';
import type { SpendCounter } from './spend-counters';
import { worstCaseCost } from './spend-quota';

/** The spend part of the quota scripts (the ones the router runs), against the real local Redis. */
describe('spend counters (Lua on Redis)', () => {
  const prefix = `spec_${randomBytes(4).toString('hex')}:`;
  let redis: Redis;
  /** Reserve / replace through the quota store, with spend counters only. */
  let counters: {
    reserve(cs: SpendCounter[], id: string, amount: number, ttlMs: number): Promise<unknown>;
    replace(cs: SpendCounter[], id: string, amount: number, ttlMs: number): Promise<void>;
  };
  const balance: SpendCounter = { key: 'spend:acct:a', check: { mode: 'balance' } };
  const cap: SpendCounter = { key: 'spend:key:k', check: { mode: 'cap', capMicro: 1000 } };
  const load = (key: string, v: number) => redis.hset(key, 'v', String(v), 'ver', '1');
  const reserved = async (key: string) => Number((await redis.hget(key, 'r')) ?? 0);

  beforeAll(async () => {
    redis = new Redis('redis://127.0.0.1:6379', { keyPrefix: prefix });
    const store = new QuotaStore(redis);
    counters = {
      reserve: async (cs, reservationId, worstMicroUsd, ttlMs) => {
        const r = await store.admit({ spend: { counters: cs, reservationId, worstMicroUsd, ttlMs } });
        if (r.status === 'dup') return { kind: 'duplicate' };
        return r.status === 'ok' ? { kind: 'ok' } : { kind: r.status, counters: r.counters };
      },
      replace: (cs, reservationId, exactMicroUsd, ttlMs) =>
        store.settle({ spend: { counters: cs, reservationId, exactMicroUsd, ttlMs } }),
    };
  });

  afterAll(async () => {
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length) await redis.del(...keys.map((k) => k.slice(prefix.length)));
    redis.disconnect();
  });

  it('reports counters billing has not loaded, and reserves nothing', async () => {
    expect(await counters.reserve([balance, cap], 'r1', 10, 60_000)).toEqual({
      kind: 'missing',
      counters: [0, 1],
    });
    await load(balance.key, 500);
    expect(await counters.reserve([balance, cap], 'r1', 10, 60_000)).toEqual({
      kind: 'missing',
      counters: [1],
    });
    expect(await reserved(balance.key)).toBe(0);
  });

  it('reserves on every counter only when all of them fit, and names the ones that do not', async () => {
    await load(cap.key, 900);
    expect(await counters.reserve([balance, cap], 'r2', 200, 60_000)).toEqual({
      kind: 'short',
      counters: [1],
    });
    expect(await counters.reserve([balance, cap], 'r2', 600, 60_000)).toEqual({
      kind: 'short',
      counters: [0, 1],
    });
    expect(await reserved(balance.key)).toBe(0);
    expect(await counters.reserve([balance, cap], 'r2', 100, 60_000)).toEqual({ kind: 'ok' });
    expect(await reserved(balance.key)).toBe(100);
    expect(await reserved(cap.key)).toBe(100);
    // The same id again is refused (a client reusing a request id) rather than double-counted.
    expect(await counters.reserve([balance, cap], 'r2', 1, 60_000)).toEqual({ kind: 'duplicate' });
    // Full cap: even a free request is refused.
    expect(await counters.reserve([cap], 'r3', 0, 60_000)).toEqual({ kind: 'short', counters: [0] });
  });

  it('replaces a hold by the exact cost, releases it at 0, and never resurrects a settled one', async () => {
    await counters.replace([balance, cap], 'r2', 40, 60_000);
    expect(await reserved(balance.key)).toBe(40);
    expect(await reserved(cap.key)).toBe(40);
    await counters.replace([balance, cap], 'r2', 0, 60_000);
    expect(await reserved(balance.key)).toBe(0);
    await counters.replace([balance, cap], 'r2', 70, 60_000);
    expect(await reserved(balance.key)).toBe(0);
  });

  it('drops expired holds (a crashed router) before checking', async () => {
    await load(balance.key, 500);
    expect(await counters.reserve([balance], 'crashed', 500, 1)).toEqual({ kind: 'ok' });
    await new Promise((r) => setTimeout(r, 20));
    expect(await counters.reserve([balance], 'next', 500, 60_000)).toEqual({ kind: 'ok' });
    expect(await reserved(balance.key)).toBe(500);
    expect(await redis.hexists(`${balance.key}:a`, 'crashed')).toBe(0);
  });

  it('handles amounts far beyond what Lua prints without exponents', async () => {
    const big: SpendCounter = { key: 'spend:acct:big', check: { mode: 'balance' } };
    await load(big.key, 9_000_000_000_000_000);
    expect(await counters.reserve([big], 'b1', 123_456_789_012_345, 60_000)).toEqual({ kind: 'ok' });
    expect(await redis.hget(big.key, 'r')).toBe('123456789012345');
    await counters.replace([big], 'b1', 100_000_000_000_001, 60_000);
    expect(await redis.hget(big.key, 'r')).toBe('100000000000001');
  });
});

describe('worstCaseCost', () => {
  const gpt = {
    inputMicroUsdPerMTok: 1_250_000,
    outputMicroUsdPerMTok: 10_000_000,
    cacheWrite5mMicroUsdPerMTok: null,
    cacheWrite1hMicroUsdPerMTok: null,
    perRequestMicroUsd: null,
  };

  it('prices input and max output at catalog price, rounded up, times the plan multiplier', () => {
    expect(worstCaseCost(gpt, 1, 20, 10_000)).toBe(2 + 200);
    expect(worstCaseCost(gpt, 1000, 1000, 10_000)).toBe(1250 + 10_000);
    expect(worstCaseCost(gpt, 1000, 1000, 8_000)).toBe(9000);
    expect(worstCaseCost({ ...gpt, perRequestMicroUsd: 500 }, 0, 0, 20_000)).toBe(1000);
  });

  it('charges input at the dearest input-side price (cache writes can cost more than input)', () => {
    const claude = { ...gpt, inputMicroUsdPerMTok: 3_000_000, cacheWrite1hMicroUsdPerMTok: 6_000_000 };
    expect(worstCaseCost(claude, 1_000_000, 0, 10_000)).toBe(6_000_000);
  });
});
