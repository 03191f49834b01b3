import { Subjects, type PlanView, type SubscriptionView } from '@torouter/contracts';
import { RpcClient } from '@torouter/messaging';
import { randomUUID } from 'node:crypto';
import { Client } from 'pg';
import { callJson, createTestAccount, eventually, type TestAccount } from './support/second-router';
import { startTestStack, type TestStack } from './support/test-stack';

/**
 * Plans (the pages' "groups") through the admin API, and what they mean on the data plane: the plan's
 * catalog (403 model_not_allowed), subscriptions (403 SUBSCRIPTION_NOT_FOUND / SUBSCRIPTION_INVALID),
 * buying, cancelling, renewing and granting them, the day/week/month caps (429 USAGE_LIMIT_EXCEEDED with
 * Retry-After), the balance (402 INSUFFICIENT_BALANCE) and the key cap (402 API_KEY_QUOTA_EXHAUSTED).
 */
describe('billing: plans, subscriptions and caps', () => {
  let stack: TestStack;
  let db: Client;
  let rpc: RpcClient;

  const admin = (method: string, path: string, body?: unknown) =>
    callJson(stack.url, method, `/api/v1/admin${path}`, { token: stack.adminToken, body });
  const billing = (a: TestAccount, method: string, path: string, body?: unknown) =>
    callJson(stack.url, method, `/api/v1/billing${path}`, { token: a.token, body });
  const createPlan = async (body: Record<string, unknown>): Promise<PlanView> => {
    const res = await admin('POST', '/plans', { name: `plan-${randomUUID().slice(0, 8)}`, ...body });
    expect(res.status).toBe(201);
    return res.body as PlanView;
  };
  const createKey = async (a: TestAccount, body: Record<string, unknown> = {}): Promise<string> => {
    const res = await callJson(stack.url, 'POST', '/api/v1/keys', {
      token: a.token,
      body: { name: 'k', ...body },
    });
    expect(res.status).toBe(201);
    return res.body.key as string;
  };
  const chat = (key: string, model = 'gpt-5', maxTokens = 20) =>
    callJson(stack.url, 'POST', '/v1/chat/completions', {
      headers: { authorization: `Bearer ${key}` },
      body: { model, max_tokens: maxTokens, messages: [{ role: 'user', content: 'hi' }] },
    });
  /** Ends the current period now (as if time had passed); the renewal loop (300 ms here) takes over. */
  const endPeriod = (subscriptionId: string) =>
    db.query(
      `UPDATE billing.subscriptions SET current_period_start = now() - interval '40 days', current_period_end = now() - interval '1 second'
       WHERE id = $1`,
      [subscriptionId],
    );
  const subscriptionStatus = async (id: string) =>
    (await db.query(`SELECT status FROM billing.subscriptions WHERE id = $1`, [id])).rows[0].status as string;

  beforeAll(async () => {
    stack = await startTestStack({
      seedDemo: true,
      env: { BILLING_SIGNUP_CREDIT_USD: '0', BILLING_RENEWAL_INTERVAL_MS: '300' },
    });
    db = new Client({ connectionString: stack.databaseUrl });
    await db.connect();
    rpc = stack.rpc;
  });

  afterAll(async () => {
    await db?.end();
    await stack?.close();
  });

  describe('plans through the admin API', () => {
    it('ships a default pay-as-you-go plan over the whole catalog', async () => {
      const list = await admin('GET', '/plans');
      expect(list.status).toBe(200);
      const def = (list.body as PlanView[]).find((p) => p.isDefault)!;
      expect(def).toMatchObject({
        kind: 'payg',
        models: [],
        priceUsd: 0,
        period: null,
        priceMultiplierBp: 10_000,
      });
      const a = await createTestAccount(stack, { creditUsd: 0 });
      const access = await rpc.send(Subjects.billingAccountAccessGet, { accountId: a.id });
      expect(access.defaultPlanId).toBe(def.id);
    });

    it('creates, reads, updates and archives plans, validating each field', async () => {
      const plan = await createPlan({
        kind: 'subscription',
        models: ['gpt-5', 'gpt-5'],
        priceUsd: 19.99,
        period: 'month',
        dailyCapUsd: 5,
        monthlyCapUsd: 100,
        defaultKeyLimits: { rpm: 60 },
        priceMultiplier: 0.8,
      });
      expect(plan).toMatchObject({
        kind: 'subscription',
        models: ['gpt-5'],
        priceUsd: 19.99,
        period: 'month',
        dailyCapUsd: 5,
        weeklyCapUsd: 0,
        monthlyCapUsd: 100,
        priceMultiplierBp: 8000,
        isDefault: false,
        archived: false,
      });
      expect(plan.defaultKeyLimits).toEqual({
        quotaUsd: 0,
        expiresInDays: 0,
        per5h: 0,
        per1d: 0,
        per7d: 0,
        rpm: 60,
        tpm: 0,
      });
      expect((await admin('GET', `/plans/${plan.id}`)).body.id).toBe(plan.id);
      expect((await admin('GET', `/plans/${randomUUID()}`)).status).toBe(404);

      const patched = await admin('PATCH', `/plans/${plan.id}`, {
        weeklyCapUsd: 20,
        defaultKeyLimits: { tpm: 1000 },
      });
      expect(patched.status).toBe(200);
      expect(patched.body).toMatchObject({ weeklyCapUsd: 20, dailyCapUsd: 5 });
      expect(patched.body.defaultKeyLimits).toMatchObject({ rpm: 60, tpm: 1000 });

      const bad: Array<[Record<string, unknown>, string]> = [
        [{ kind: 'subscription', priceUsd: 5 }, 'period'],
        [{ kind: 'subscription', period: 'month' }, 'priceUsd'],
        [{ kind: 'payg', priceUsd: 5 }, 'priceUsd'],
        [{ kind: 'payg', period: 'week' }, 'period'],
        [{ kind: 'payg', dailyCapUsd: -1 }, 'dailyCapUsd'],
        [{ kind: 'payg', priceMultiplier: 0 }, 'priceMultiplier'],
        [{ kind: 'payg', priceMultiplier: 1.00001 }, 'priceMultiplier'],
        [{ kind: 'flat' }, 'kind'],
      ];
      for (const [body, field] of bad) {
        const res = await admin('POST', '/plans', { name: `bad-${randomUUID()}`, ...body });
        expect(res.status).toBe(400);
        expect(res.body.error.message).toContain(field);
      }
      expect((await admin('POST', '/plans', { name: plan.name.toUpperCase(), kind: 'payg' })).status).toBe(
        409,
      );
      expect((await admin('PATCH', `/plans/${plan.id}`, { kind: 'payg' })).status).toBe(400);

      const archived = await admin('PATCH', `/plans/${plan.id}`, { archived: true });
      expect(archived.body.archived).toBe(true);
      const a = await createTestAccount(stack, { creditUsd: 0 });
      const visible = (await billing(a, 'GET', '/plans')).body as PlanView[];
      expect(visible.map((p) => p.id)).not.toContain(plan.id);
      expect((await admin('GET', '/plans?includeArchived=true')).body.map((p: PlanView) => p.id)).toContain(
        plan.id,
      );
      expect((await billing(a, 'POST', '/subscriptions', { planId: plan.id })).status).toBe(409);
      expect((await callJson(stack.url, 'GET', '/api/v1/admin/plans', { token: a.token })).status).toBe(403);
    });

    it('keeps exactly one default plan; new accounts get the default in force when billing first sees them', async () => {
      const before = (await admin('GET', '/plans')).body.find((p: PlanView) => p.isDefault) as PlanView;
      const early = await createTestAccount(stack, { creditUsd: 0 });
      await rpc.send(Subjects.billingAccountAccessGet, { accountId: early.id });
      const next = await createPlan({ kind: 'payg', isDefault: true });
      try {
        const plans = (await admin('GET', '/plans?includeArchived=true')).body as PlanView[];
        expect(plans.filter((p) => p.isDefault).map((p) => p.id)).toEqual([next.id]);
        const late = await createTestAccount(stack, { creditUsd: 0 });
        expect((await rpc.send(Subjects.billingAccountAccessGet, { accountId: late.id })).defaultPlanId).toBe(
          next.id,
        );
        expect(
          (await rpc.send(Subjects.billingAccountAccessGet, { accountId: early.id })).defaultPlanId,
        ).toBe(before.id);
        expect((await admin('PATCH', `/plans/${next.id}`, { isDefault: false })).status).toBe(400);
        expect((await admin('PATCH', `/plans/${next.id}`, { archived: true })).status).toBe(400);
      } finally {
        expect((await admin('PATCH', `/plans/${before.id}`, { isDefault: true })).status).toBe(200);
      }
    });
  });

  describe('on the data plane', () => {
    it("refuses a model outside the plan's catalog with 403 model_not_allowed, obeying catalog changes at once", async () => {
      const plan = await createPlan({ kind: 'payg', models: ['gpt-5-mini'] });
      const a = await createTestAccount(stack, { creditUsd: 10 });
      const key = await createKey(a, { planId: plan.id });
      const refused = await chat(key, 'gpt-5');
      expect(refused.status).toBe(403);
      expect(refused.body.error.code).toBe('model_not_allowed');
      expect((await chat(key, 'gpt-5-mini')).status).toBe(200);
      await admin('PATCH', `/plans/${plan.id}`, { models: ['gpt-5-mini', 'gpt-5'] });
      await eventually(async () => (await chat(key, 'gpt-5')).status === 200);
    });

    it('needs a subscription on a subscription plan: none → SUBSCRIPTION_NOT_FOUND; buying it charges the balance', async () => {
      const plan = await createPlan({ kind: 'subscription', priceUsd: 3, period: 'month' });
      const a = await createTestAccount(stack, { creditUsd: 2 });
      const key = await createKey(a, { planId: plan.id });
      const none = await chat(key);
      expect(none.status).toBe(403);
      expect(none.body.error.code).toBe('SUBSCRIPTION_NOT_FOUND');

      const short = await billing(a, 'POST', '/subscriptions', { planId: plan.id });
      expect(short.status).toBe(402);
      expect(short.body.error.code).toBe('INSUFFICIENT_BALANCE');
      await callJson(stack.url, 'POST', `/api/v1/admin/accounts/${a.id}/credits`, {
        token: stack.adminToken,
        body: { amountUsd: 2 },
        headers: { 'idempotency-key': `top-${a.id}` },
      });
      const bought = await billing(a, 'POST', '/subscriptions', { planId: plan.id });
      expect(bought.status).toBe(201);
      const sub = bought.body as SubscriptionView;
      expect(sub).toMatchObject({
        planId: plan.id,
        status: 'active',
        granted: false,
        cancelAtPeriodEnd: false,
      });
      expect(Date.parse(sub.currentPeriodEnd) - Date.parse(sub.currentPeriodStart)).toBeGreaterThan(
        27 * 86_400_000,
      );
      expect((await billing(a, 'POST', '/subscriptions', { planId: plan.id })).status).toBe(409);

      const ok = await chat(key);
      expect(ok.status).toBe(200);
      // Subscription usage counts toward the plan's caps, not against the balance.
      await eventually(async () => {
        const subs = (await billing(a, 'GET', '/subscriptions')).body as SubscriptionView[];
        return subs[0]?.spend.dailyUsd > 0;
      });
      const balance = (await billing(a, 'GET', '/balance')).body;
      expect(balance.balanceUsd).toBe(1);
      expect(balance.subscriptions.map((s: SubscriptionView) => s.id)).toEqual([sub.id]);
      const charge = await db.query(`SELECT amount_micro FROM billing.ledger_entries WHERE reference = $1`, [
        sub.id,
      ]);
      expect(charge.rows).toEqual([{ amount_micro: '-3000000' }]);
      const payg = await billing(a, 'POST', '/subscriptions', {
        planId: (await admin('GET', '/plans')).body.find((p: PlanView) => p.isDefault).id,
      });
      expect(payg.status).toBe(400);
    });

    it('cancels at period end: usable until then, SUBSCRIPTION_INVALID after', async () => {
      const plan = await createPlan({ kind: 'subscription', priceUsd: 1, period: 'week' });
      const a = await createTestAccount(stack, { creditUsd: 5 });
      const key = await createKey(a, { planId: plan.id });
      const sub = (await billing(a, 'POST', '/subscriptions', { planId: plan.id })).body as SubscriptionView;
      const cancelled = await billing(a, 'DELETE', `/subscriptions/${sub.id}`);
      expect(cancelled.status).toBe(200);
      expect(cancelled.body).toMatchObject({ status: 'active', cancelAtPeriodEnd: true });
      expect((await chat(key)).status).toBe(200);

      await endPeriod(sub.id);
      await eventually(async () => (await subscriptionStatus(sub.id)) === 'cancelled');
      const after = await eventually(async () => {
        const r = await chat(key);
        return r.status === 403 ? r : null;
      });
      expect(after.body.error.code).toBe('SUBSCRIPTION_INVALID');
      expect((await billing(a, 'DELETE', `/subscriptions/${sub.id}`)).status).toBe(409);
      // Only one charge: a cancelled subscription is not renewed.
      const charges = await db.query(
        `SELECT count(*) AS n FROM billing.ledger_entries WHERE reference = $1`,
        [sub.id],
      );
      expect(Number(charges.rows[0].n)).toBe(1);
      // Buying it again works (a new subscription).
      expect((await billing(a, 'POST', '/subscriptions', { planId: plan.id })).status).toBe(201);
      await eventually(async () => (await chat(key)).status === 200);
    });

    it('renews at period start by charging the balance; a renewal the balance cannot cover leaves it invalid', async () => {
      const plan = await createPlan({ kind: 'subscription', priceUsd: 2, period: 'day' });
      const a = await createTestAccount(stack, { creditUsd: 5 });
      const key = await createKey(a, { planId: plan.id });
      const sub = (await billing(a, 'POST', '/subscriptions', { planId: plan.id })).body as SubscriptionView;

      await endPeriod(sub.id);
      await eventually(async () => {
        const r = await db.query(`SELECT count(*) AS n FROM billing.ledger_entries WHERE reference = $1`, [
          sub.id,
        ]);
        return Number(r.rows[0].n) === 2;
      });
      const renewed = await db.query(
        `SELECT status, current_period_end FROM billing.subscriptions WHERE id = $1`,
        [sub.id],
      );
      expect(renewed.rows[0].status).toBe('active');
      expect(renewed.rows[0].current_period_end.getTime()).toBeGreaterThan(Date.now());
      expect((await chat(key)).status).toBe(200);

      await endPeriod(sub.id); // 1 USD left, the price is 2
      await eventually(async () => (await subscriptionStatus(sub.id)) === 'invalid');
      const refused = await eventually(async () => {
        const r = await chat(key);
        return r.status === 403 ? r : null;
      });
      expect(refused.body.error.code).toBe('SUBSCRIPTION_INVALID');
      const balance = (await billing(a, 'GET', '/balance')).body;
      expect(balance.balanceUsd).toBe(1);
      expect(balance.subscriptions[0]).toMatchObject({ id: sub.id, status: 'invalid' });
    });

    it('lets an administrator grant a subscription without charge; it expires at period end', async () => {
      const plan = await createPlan({ kind: 'subscription', priceUsd: 50, period: 'month' });
      const a = await createTestAccount(stack, { creditUsd: 0 });
      const key = await createKey(a, { planId: plan.id });
      const granted = await admin('POST', `/accounts/${a.id}/subscriptions`, { planId: plan.id });
      expect(granted.status).toBe(201);
      expect(granted.body).toMatchObject({ status: 'active', granted: true });
      expect((await admin('POST', `/accounts/${a.id}/subscriptions`, { planId: plan.id })).status).toBe(409);
      expect(
        (await admin('POST', `/accounts/${randomUUID()}/subscriptions`, { planId: plan.id })).status,
      ).toBe(404);
      expect((await chat(key)).status).toBe(200);
      expect((await billing(a, 'GET', '/balance')).body.balanceUsd).toBe(0);

      await endPeriod(granted.body.id);
      await eventually(async () => (await subscriptionStatus(granted.body.id)) === 'expired');
      const refused = await eventually(async () => {
        const r = await chat(key);
        return r.status === 403 ? r : null;
      });
      expect(refused.body.error.code).toBe('SUBSCRIPTION_INVALID');
    });

    it('stops at a full subscription cap with 429 USAGE_LIMIT_EXCEEDED and Retry-After, overspending nothing', async () => {
      const plan = await createPlan({
        kind: 'subscription',
        priceUsd: 0,
        period: 'month',
        dailyCapUsd: 0.001,
      });
      const a = await createTestAccount(stack, { creditUsd: 0 });
      const key = await createKey(a, { planId: plan.id });
      expect((await billing(a, 'POST', '/subscriptions', { planId: plan.id })).status).toBe(201);

      // Worst case (max_tokens × output price) above the whole cap: refused before anything is spent.
      const tooBig = await chat(key, 'gpt-5', 200);
      expect(tooBig.status).toBe(429);
      expect(tooBig.body.error.code).toBe('USAGE_LIMIT_EXCEEDED');
      const retryAfter = Number(tooBig.headers.get('retry-after'));
      expect(retryAfter).toBeGreaterThan(0);
      expect(retryAfter).toBeLessThanOrEqual(86_400);

      let admitted = 0;
      let last: Awaited<ReturnType<typeof chat>> | undefined;
      for (let i = 0; i < 40; i++) {
        last = await chat(key, 'gpt-5', 20);
        if (last.status !== 200) break;
        admitted++;
      }
      expect(admitted).toBeGreaterThan(0);
      expect(last!.status).toBe(429);
      expect(last!.body.error.code).toBe('USAGE_LIMIT_EXCEEDED');
      expect(last!.headers.get('retry-after')).toEqual(expect.stringMatching(/^\d+$/));

      const settled = await eventually(async () => {
        const r = await db.query(
          `SELECT count(*) AS n, coalesce(sum(cost_micro), 0) AS total FROM billing.usage_settlements WHERE account_id = $1`,
          [a.id],
        );
        return Number(r.rows[0].n) === admitted ? Number(r.rows[0].total) : null;
      });
      expect(settled).toBeLessThanOrEqual(1000);
      const subs = (await billing(a, 'GET', '/subscriptions')).body as SubscriptionView[];
      expect(subs[0].spend.dailyUsd * 1e6).toBeCloseTo(settled, 0);
      expect(subs[0].caps.dailyUsd).toBe(0.001);
    });

    it('refuses pay-as-you-go with 402 INSUFFICIENT_BALANCE, and a spent key cap with 402 API_KEY_QUOTA_EXHAUSTED', async () => {
      const broke = await createTestAccount(stack, { creditUsd: 0 });
      const brokeKey = await createKey(broke, { quotaUsd: 0.000001 });
      const noMoney = await chat(brokeKey);
      expect(noMoney.status).toBe(402);
      expect(noMoney.body.error.code).toBe('INSUFFICIENT_BALANCE'); // balance is checked before the key cap

      const a = await createTestAccount(stack, { creditUsd: 10 });
      const capped = await createKey(a, { quotaUsd: 0.0005 });
      let status = 200;
      let body: any;
      for (let i = 0; i < 20 && status === 200; i++) ({ status, body } = await chat(capped));
      expect(status).toBe(402);
      expect(body.error.code).toBe('API_KEY_QUOTA_EXHAUSTED');
      // Another key of the same account is not affected.
      expect((await chat(await createKey(a))).status).toBe(200);
    });
  });
});
