import { createRedisConnection } from '@torouter/service-runtime';
import type { RateLimits } from '@torouter/contracts';
import { randomBytes, randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { AdmissionContext, AdmissionHold } from '../admission/admission.types';
import { RequestWindows, windowCheckArgs, type WindowChange, type WindowsVerdict } from './request-windows';
import { QuotaStep } from '../quota/quota.step';
import { QuotaStore } from '../quota/quota.store';
import type { RequestPlan } from '../spend/request-plan';
import type { SpendQuota } from '../spend/spend-quota';

/** A router replica's view of the windows: counted by the quota scripts (as the router does), read by peek. */
interface Replica {
  admit(limitsId: string, limits: RateLimits, tokens: number): Promise<WindowsVerdict>;
  adjust(limitsId: string, changes: WindowChange[]): Promise<void>;
  peek(limitsId: string, limits: RateLimits): Promise<WindowsVerdict>;
}

function replicaOn(redis: Redis): Replica {
  const store = new QuotaStore(redis);
  const windows = new RequestWindows(redis);
  return {
    admit: async (limitsId, limits, tokens) => {
      const redisKey = RequestWindows.redisKey(limitsId);
      const r = await store.admit({ windows: { redisKey, args: windowCheckArgs(limits, tokens) } });
      return { admitted: r.status === 'ok', now: r.now, waitMs: r.waitMs, windows: r.windows };
    },
    adjust: (limitsId, changes) =>
      store.settle({ windows: { redisKey: RequestWindows.redisKey(limitsId), changes } }),
    peek: (limitsId, limits) => windows.peek(limitsId, limits),
  };
}

/** The Lua windows against the real local Redis, each test under its own key. */
describe('request windows in Redis', () => {
  const namespace = `rw_${randomBytes(4).toString('hex')}`;
  let a: Redis;
  let b: Redis;
  let replicaA: Replica;
  let replicaB: Replica;
  const off: RateLimits = { per5h: 0, per1d: 0, per7d: 0, rpm: 0, tpm: 0 };

  beforeAll(async () => {
    a = createRedisConnection('redis://127.0.0.1:6379', namespace, 'spec-a');
    b = createRedisConnection('redis://127.0.0.1:6379', namespace, 'spec-b');
    await Promise.all([a.connect(), b.connect()]);
    replicaA = replicaOn(a);
    replicaB = replicaOn(b);
  });

  afterAll(async () => {
    const keys = await a.keys(`${namespace}:*`);
    if (keys.length) await a.del(...keys.map((k) => k.slice(namespace.length + 1)));
    a.disconnect();
    b.disconnect();
  });

  it('admits up to the limit, then refuses with the wait until a slot frees', async () => {
    const id = randomUUID();
    const limits = { ...off, rpm: 3 };
    for (let i = 1; i <= 3; i++) {
      const v = await replicaA.admit(id, limits, 0);
      expect(v.admitted).toBe(true);
      expect(v.windows).toEqual([
        expect.objectContaining({ name: 'rpm', limit: 3, used: i, remaining: 3 - i }),
      ]);
    }
    const refused = await replicaA.admit(id, limits, 0);
    expect(refused.admitted).toBe(false);
    expect(refused.waitMs).toBeGreaterThan(60_000 - 1_000);
    expect(refused.waitMs).toBeLessThanOrEqual(61_000);
    expect(refused.windows[0].used).toBe(3);
  });

  it('is shared by every replica and exact under concurrency', async () => {
    const id = randomUUID();
    const limits = { ...off, rpm: 10, per5h: 1000 };
    const verdicts = await Promise.all(
      Array.from({ length: 40 }, (_, i) => (i % 2 ? replicaA : replicaB).admit(id, limits, 0)),
    );
    expect(verdicts.filter((v) => v.admitted)).toHaveLength(10);
    const peek = await replicaB.peek(id, limits);
    expect(peek.windows.map((w) => [w.name, w.used])).toEqual([
      ['per5h', 10],
      ['rpm', 10],
    ]);
  });

  it('counts all windows or none: a refusal by one window counts in no other', async () => {
    const id = randomUUID();
    const limits = { ...off, per1d: 2, rpm: 100 };
    await replicaA.admit(id, limits, 0);
    await replicaA.admit(id, limits, 0);
    const refused = await replicaA.admit(id, limits, 0);
    expect(refused.admitted).toBe(false);
    const peek = await replicaA.peek(id, limits);
    expect(peek.windows.map((w) => [w.name, w.used])).toEqual([
      ['per1d', 2],
      ['rpm', 2],
    ]);
    expect(peek.windows[0].resetMs).toBeGreaterThan(24 * 3600_000 - 1000);
  });

  it('gives a slot back and corrects TPM to the actual tokens', async () => {
    const id = randomUUID();
    const limits = { ...off, rpm: 1, tpm: 1000 };
    const first = await replicaA.admit(id, limits, 800);
    expect(first.admitted).toBe(true);
    expect((await replicaA.admit(id, limits, 100)).admitted).toBe(false);
    // A later check refused the first request: everything it counted is given back.
    await replicaA.adjust(
      id,
      first.windows.map((w) => ({ window: w.name, field: w.field, delta: w.name === 'tpm' ? -800 : -1 })),
    );
    expect((await replicaA.peek(id, limits)).windows.map((w) => w.used)).toEqual([0, 0]);

    const second = await replicaB.admit(id, limits, 800);
    const tpm = second.windows.find((w) => w.name === 'tpm')!;
    await replicaB.adjust(id, [{ window: 'tpm', field: tpm.field, delta: 150 - 800 }]);
    expect((await replicaA.peek(id, limits)).windows.find((w) => w.name === 'tpm')!.used).toBe(150);
  });

  it("keeps each bucket's count equal to what was counted in it (buckets are what expiry subtracts)", async () => {
    const id = randomUUID();
    const key = RequestWindows.redisKey(id);
    const limits = { ...off, rpm: 10, tpm: 10_000 };
    for (const tokens of [100, 250, 400])
      expect((await replicaA.admit(id, limits, tokens)).admitted).toBe(true);
    const hash = await a.hgetall(key);
    const bucketSum = (prefix: string) =>
      Object.entries(hash)
        .filter(([f]) => new RegExp(`^${prefix}:\\d+$`).test(f))
        .reduce((n, [, v]) => n + Number(v), 0);
    const rpm = (await replicaA.peek(id, limits)).windows.find((w) => w.name === 'rpm')!;
    const tpm = (await replicaA.peek(id, limits)).windows.find((w) => w.name === 'tpm')!;
    const [rpmPrefix, tpmPrefix] = [rpm.field, tpm.field].map((f) => f.slice(0, f.indexOf(':')));
    expect(bucketSum(rpmPrefix)).toBe(3);
    expect(bucketSum(tpmPrefix)).toBe(750);
    expect(Number(hash[`${rpmPrefix}:s`])).toBe(3);
    expect(Number(hash[`${tpmPrefix}:s`])).toBe(750);
  });

  it('refuses for good a request larger than the TPM limit', async () => {
    const v = await replicaA.admit(randomUUID(), { ...off, tpm: 100 }, 101);
    expect(v.admitted).toBe(false);
    expect(v.waitMs).toBe(-1);
  });

  it('drops buckets that left the window, subtracting them from the running sum', async () => {
    const id = randomUUID();
    const key = RequestWindows.redisKey(id);
    const nowBucket = Math.floor(Date.now() / 1000);
    const old = nowBucket - 120; // two minutes ago (1 s RPM buckets)
    const recent = nowBucket - 5;
    await a.hset(key, {
      [`m:${old}`]: '50',
      [`m:${recent}`]: '2',
      'm:s': '52',
      'm:l': String(old),
      'm:h': String(recent),
    });
    const v = await replicaA.admit(id, { ...off, rpm: 4 }, 0);
    expect(v.admitted).toBe(true);
    expect(v.windows[0].used).toBe(3);
    expect(await a.hexists(key, `m:${old}`)).toBe(0);
    expect(await a.hget(key, 'm:s')).toBe('3');
    expect(await a.pttl(key)).toBeGreaterThan(60_000);
    // the refusal waits for the oldest live bucket (5 s old) to leave the 60 s window
    await replicaA.admit(id, { ...off, rpm: 4 }, 0);
    const refused = await replicaA.admit(id, { ...off, rpm: 4 }, 0);
    expect(refused.admitted).toBe(false);
    expect(refused.waitMs).toBeGreaterThan(50_000);
    expect(refused.waitMs).toBeLessThanOrEqual(57_000);
  });

  it('recounts from scratch after a very long gap', async () => {
    const id = randomUUID();
    const key = RequestWindows.redisKey(id);
    const nowBucket = Math.floor(Date.now() / 1000);
    const stale = nowBucket - 100_000;
    await a.hset(key, {
      [`t:${stale}`]: '10',
      [`t:${nowBucket - 1}`]: '7',
      't:s': '17',
      't:l': String(stale),
      't:h': String(nowBucket - 1),
    });
    const v = await replicaA.peek(id, { ...off, tpm: 100 });
    expect(v.windows[0].used).toBe(7);
    expect(await a.hexists(key, `t:${stale}`)).toBe(0);
  });

  it('does nothing when every window is off', async () => {
    const v = await replicaA.admit(randomUUID(), off, 0);
    expect(v).toMatchObject({ admitted: true, windows: [] });
  });

  describe('in the quota step (order 40)', () => {
    // A key without spend limits: the quota step checks only its windows.
    const noSpend = {
      claimOf: () => undefined,
      exactMicroUsd: () => 0,
    } as unknown as SpendQuota;
    const plans = {
      of: () => Promise.resolve({ id: 'plan', kind: 'subscription' }),
    } as unknown as RequestPlan;
    const quotaStep = (redis: Redis) => new QuotaStep(new QuotaStore(redis), plans, noSpend);
    const ctx = (limitsId: string, rateLimits: RateLimits, tokens = { input: 10, maxOutput: 20 }) =>
      ({
        requestId: randomUUID(),
        caller: {
          limits: { limitsId, rateLimits, ipRules: { allow: [], deny: [] }, modelWhitelist: new Set() },
        },
        estimatedInputTokens: tokens.input,
        maxOutputTokens: tokens.maxOutput,
      }) as unknown as AdmissionContext;
    const outcome = (kind: 'completed' | 'failed' | 'refused', inputTokens = 0, outputTokens = 0) => ({
      kind,
      costMicroUsd: 0,
      inputTokens,
      outputTokens,
    });

    it('gives everything back when a later step refuses the request', async () => {
      const step = quotaStep(a);
      const id = randomUUID();
      const limits = { ...off, rpm: 1, tpm: 1000 };
      const hold = (await step.admit(ctx(id, limits))) as AdmissionHold;
      expect(hold.headers).toMatchObject({
        'x-ratelimit-remaining-requests': '0',
        'x-ratelimit-remaining-tokens': '970',
      });
      await expect(step.admit(ctx(id, limits))).rejects.toMatchObject({ code: 'RATE_LIMIT_EXCEEDED' });
      await hold.release(outcome('refused'));
      expect((await replicaA.peek(id, limits)).windows.map((w) => w.used)).toEqual([0, 0]);
      expect(await step.admit(ctx(id, limits))).toBeDefined();
    });

    it('keeps the request counted when it ends, and moves TPM to the tokens used (kept when unknown)', async () => {
      const step = quotaStep(a);
      const id = randomUUID();
      const limits = { ...off, rpm: 10, tpm: 1000 };
      await ((await step.admit(ctx(id, limits))) as AdmissionHold).release(outcome('completed', 4, 3));
      expect((await replicaA.peek(id, limits)).windows.map((w) => w.used)).toEqual([1, 7]);
      await ((await step.admit(ctx(id, limits))) as AdmissionHold).release(outcome('completed', 0, 0));
      expect((await replicaA.peek(id, limits)).windows.map((w) => w.used)).toEqual([2, 37]);
      await ((await step.admit(ctx(id, limits))) as AdmissionHold).release(outcome('failed', 0, 0));
      expect((await replicaA.peek(id, limits)).windows.map((w) => w.used)).toEqual([3, 37]);
    });

    it('fails closed (503) when Redis cannot be reached', async () => {
      const down = createRedisConnection('redis://127.0.0.1:1', namespace, 'spec-down');
      const step = quotaStep(down);
      await expect(step.admit(ctx(randomUUID(), { ...off, rpm: 1 }))).rejects.toMatchObject({
        code: 'service_unavailable',
      });
      down.disconnect();
    });

    it('takes nothing for a key without windows', async () => {
      expect(await quotaStep(a).admit(ctx(randomUUID(), off))).toBeUndefined();
    });
  });
});
