import { Streams, Subjects, type OrderView, type UsageRecordedEvent } from '@torouter/contracts';
import { ensureStream, publishDurable } from '@torouter/messaging';
import { connect, type NatsConnection } from 'nats';
import { randomUUID } from 'node:crypto';
import { Client } from 'pg';
import { startFakeStripe, type FakeStripe } from './support/fake-stripe';
import { callJson, createTestAccount, eventually, type TestAccount } from './support/second-router';
import { startTestStack, type TestStack } from './support/test-stack';

/**
 * Top-ups through Stripe Checkout with the official `stripe` package against a local fake Stripe: a
 * signed webhook credits a completed checkout exactly once however often it is delivered, a forged one
 * credits nothing; orders are cancelled, expire, and are refunded less what was spent of them.
 */
describe('billing: top-ups and orders through Stripe', () => {
  let stack: TestStack;
  let stripe: FakeStripe;
  let db: Client;
  let nc: NatsConnection;

  const api = (a: TestAccount, method: string, path: string, body?: unknown) =>
    callJson(stack.url, method, `/api/v1/billing${path}`, { token: a.token, body });
  const deliver = (payload: string, signature?: string) =>
    fetch(`${stack.url}/api/v1/billing/webhooks/stripe`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        ...(signature ? { 'stripe-signature': signature } : {}),
      },
      body: payload,
    });
  const balanceOf = async (a: TestAccount): Promise<number> =>
    (await api(a, 'GET', '/balance')).body.balanceUsd;
  const topup = async (a: TestAccount, amountUsd: number): Promise<OrderView> => {
    const res = await api(a, 'POST', '/topups', { amountUsd });
    expect(res.status).toBe(201);
    return res.body as OrderView;
  };
  const sessionOf = (order: OrderView) =>
    [...stripe.sessions.values()].find((s) => s.client_reference_id === order.id)!;
  /** Top-up paid through a signed checkout.session.completed webhook. */
  const paidTopup = async (a: TestAccount, amountUsd: number): Promise<OrderView> => {
    const order = await topup(a, amountUsd);
    const signed = stripe.signEvent(stripe.completeSession(sessionOf(order).id));
    expect((await deliver(signed.payload, signed.signature)).status).toBe(200);
    return order;
  };
  /** Spends from the balance the way settlement does: a usage event on JetStream. */
  const spend = async (a: TestAccount, costUsd: number) => {
    const requestId = `req_${randomUUID().replace(/-/g, '')}`;
    const now = new Date().toISOString();
    const ev: UsageRecordedEvent = {
      requestId,
      accountId: a.id,
      keyId: randomUUID(),
      keyName: 'spec',
      planId: null,
      requestedModel: 'gpt-5',
      model: 'gpt-5',
      channelId: null,
      channelName: null,
      attempts: [],
      surface: 'openai',
      endpoint: '/v1/chat/completions',
      stream: false,
      status: 'success',
      httpStatus: 200,
      errorCode: null,
      usageSource: 'upstream',
      inputTokens: 1,
      cacheReadTokens: 0,
      cacheWrite5mTokens: 0,
      cacheWrite1hTokens: 0,
      outputTokens: 1,
      reasoningTokens: 0,
      costMicroUsd: Math.round(costUsd * 1_000_000),
      price: {
        input: 0,
        output: 0,
        cacheRead: 0,
        cacheWrite5m: 0,
        cacheWrite1h: 0,
        perRequest: 0,
        multiplierBp: 10_000,
      },
      reservationId: null,
      reservedMicroUsd: 0,
      startedAt: now,
      finishedAt: now,
      latencyMs: 1,
      ttftMs: null,
      clientIp: '127.0.0.1',
    };
    await publishDurable(nc, stack.namespace, Subjects.routerRequestCompleted, ev, requestId);
    await eventually(async () => {
      const r = await db.query(`SELECT 1 FROM billing.usage_settlements WHERE request_id = $1`, [requestId]);
      return r.rowCount === 1;
    });
  };
  const ledgerSum = async (accountId: string) =>
    Number(
      (
        await db.query(
          `SELECT coalesce(sum(amount_micro), 0) AS s FROM billing.ledger_entries WHERE account_id = $1`,
          [accountId],
        )
      ).rows[0].s,
    );

  beforeAll(async () => {
    stripe = await startFakeStripe();
    stack = await startTestStack({
      seedDemo: false,
      env: {
        STRIPE_SECRET_KEY: stripe.secretKey,
        STRIPE_WEBHOOK_SECRET: stripe.webhookSecret,
        STRIPE_API_BASE: stripe.url,
        BILLING_SIGNUP_CREDIT_USD: '0',
        BILLING_RENEWAL_INTERVAL_MS: '300',
        PUBLIC_BASE_URL: 'https://console.example.com',
      },
    });
    db = new Client({ connectionString: stack.databaseUrl });
    await db.connect();
    nc = await connect({ servers: stack.env.NATS_URL });
    await ensureStream(nc, stack.namespace, Streams.usage);
  });

  afterAll(async () => {
    await nc?.close();
    await db?.end();
    await stack?.close();
    await stripe?.close();
  });

  it('creates a pending order with a Stripe Checkout URL through the stripe package', async () => {
    const a = await createTestAccount(stack, { creditUsd: 0 });
    const order = await topup(a, 50);
    expect(order).toMatchObject({ status: 'pending', amountUsd: 50, currency: 'usd', refundedUsd: 0 });
    expect(order.checkoutUrl).toMatch(new RegExp(`^${stripe.url}/pay/cs_test_`));
    const session = sessionOf(order);
    expect(session).toMatchObject({
      mode: 'payment',
      amount_total: 5000,
      currency: 'usd',
      metadata: { orderId: order.id },
    });
    expect(session.success_url).toContain('https://console.example.com/payment/result');
    const call = stripe.calls.find(
      (c) => c.path === '/v1/checkout/sessions' && c.body.client_reference_id === order.id,
    )!;
    expect(call.idempotencyKey).toBe(`checkout:${order.id}`);
    expect(await balanceOf(a)).toBe(0);
  });

  it('accepts the presets and custom amounts within bounds, naming the field otherwise', async () => {
    const a = await createTestAccount(stack, { creditUsd: 0 });
    expect((await api(a, 'POST', '/topups', { amountUsd: 5000 })).status).toBe(201);
    expect((await api(a, 'POST', '/topups', { amountUsd: 7.5 })).status).toBe(201);
    for (const amountUsd of [1, 20_000, 12.345, -10, 0]) {
      const res = await api(a, 'POST', '/topups', { amountUsd });
      expect(res.status).toBe(400);
      expect(res.body.error.code).toBe('validation_failed');
      expect(res.body.error.message).toContain('amountUsd');
    }
    expect((await api(a, 'POST', '/topups', { amountUsd: '10' })).status).toBe(400);
    expect(
      (await callJson(stack.url, 'POST', '/api/v1/billing/topups', { body: { amountUsd: 10 } })).status,
    ).toBe(401);
  });

  it('credits a completed checkout exactly once, however often (and concurrently) the webhook is delivered', async () => {
    const a = await createTestAccount(stack, { creditUsd: 0 });
    const order = await topup(a, 20);
    const signed = stripe.signEvent(stripe.completeSession(sessionOf(order).id));
    const first = await deliver(signed.payload, signed.signature);
    expect(first.status).toBe(200);
    expect(await first.json()).toMatchObject({
      received: true,
      eventType: 'checkout.completed',
      handled: true,
    });
    const replays = await Promise.all(
      Array.from({ length: 8 }, () => deliver(signed.payload, signed.signature)),
    );
    expect(replays.map((r) => r.status)).toEqual(Array(8).fill(200));
    // A fresh delivery of the same completion (a new event id, as Stripe resends) credits nothing either.
    const again = stripe.signEvent(stripe.completeSession(sessionOf(order).id));
    expect((await deliver(again.payload, again.signature)).status).toBe(200);

    expect(await balanceOf(a)).toBe(20);
    const entries = await db.query(
      `SELECT kind, amount_micro FROM billing.ledger_entries WHERE account_id = $1`,
      [a.id],
    );
    expect(entries.rows).toEqual([{ kind: 'topup', amount_micro: '20000000' }]);
    const got = (await api(a, 'GET', `/orders/${order.id}`)).body as OrderView;
    expect(got).toMatchObject({ status: 'paid', checkoutUrl: null });
    expect(got.paidAt).not.toBeNull();
    expect(got.receiptUrl).toMatch(/^https:\/\/pay\.stripe\.example\/receipts\/pi_/);
    const ledger = (await api(a, 'GET', '/ledger')).body;
    expect(ledger.data).toEqual([
      expect.objectContaining({ kind: 'topup', amountUsd: 20, balanceAfterUsd: 20, reference: order.id }),
    ]);
  });

  it('refuses forged, tampered, unsigned and stale webhooks with 400 and credits nothing', async () => {
    const a = await createTestAccount(stack, { creditUsd: 0 });
    const order = await topup(a, 100);
    const completed = stripe.completeSession(sessionOf(order).id);
    const forged = stripe.signEvent(completed, { secret: 'whsec_not_the_real_one' });
    const genuine = stripe.signEvent(completed);
    const tampered = genuine.payload.replace('"amount_total": 10000', '"amount_total": 99999999');
    expect(tampered).not.toBe(genuine.payload);
    const stale = stripe.signEvent(completed, { timestamp: Math.floor(Date.now() / 1000) - 3600 });

    for (const [payload, signature] of [
      [forged.payload, forged.signature],
      [tampered, genuine.signature],
      [genuine.payload, undefined],
      [stale.payload, stale.signature],
      [genuine.payload, 't=1,v1=deadbeef'],
    ] as Array<[string, string | undefined]>) {
      const res = await deliver(payload, signature);
      expect(res.status).toBe(400);
      expect(((await res.json()) as any).error.code).toBe('validation_failed');
    }
    expect(await balanceOf(a)).toBe(0);
    expect((await api(a, 'GET', `/orders/${order.id}`)).body.status).toBe('pending');
    // The genuine delivery still works afterwards.
    expect((await deliver(genuine.payload, genuine.signature)).status).toBe(200);
    expect(await balanceOf(a)).toBe(100);
  });

  it('cancels a pending order (its checkout expires at Stripe) but never a paid one', async () => {
    const a = await createTestAccount(stack, { creditUsd: 0 });
    const order = await topup(a, 10);
    const cancelled = await api(a, 'POST', `/orders/${order.id}/cancel`);
    expect(cancelled.status).toBe(200);
    expect(cancelled.body).toMatchObject({ status: 'cancelled', checkoutUrl: null });
    expect(sessionOf(order).status).toBe('expired');
    expect((await api(a, 'POST', `/orders/${order.id}/cancel`)).status).toBe(409);

    const paid = await paidTopup(a, 10);
    const refused = await api(a, 'POST', `/orders/${paid.id}/cancel`);
    expect(refused.status).toBe(409);
    expect(refused.body.error.code).toBe('conflict');

    // Another account's order does not exist for this one.
    const other = await createTestAccount(stack, { creditUsd: 0 });
    expect((await api(other, 'POST', `/orders/${order.id}/cancel`)).status).toBe(404);
    expect((await api(other, 'GET', `/orders/${order.id}`)).status).toBe(404);
    expect((await api(other, 'GET', `/orders/not-a-uuid`)).status).toBe(404);
  });

  it('refuses to cancel an order the customer has just paid (Stripe says complete)', async () => {
    const a = await createTestAccount(stack, { creditUsd: 0 });
    const order = await topup(a, 10);
    const completed = stripe.completeSession(sessionOf(order).id); // paid, webhook not delivered yet
    const res = await api(a, 'POST', `/orders/${order.id}/cancel`);
    expect(res.status).toBe(409);
    const signed = stripe.signEvent(completed);
    expect((await deliver(signed.payload, signed.signature)).status).toBe(200);
    expect(await balanceOf(a)).toBe(10);
  });

  it('marks an order expired when Stripe says its checkout expired', async () => {
    const a = await createTestAccount(stack, { creditUsd: 0 });
    const order = await topup(a, 20);
    const signed = stripe.signEvent(stripe.expireSession(sessionOf(order).id));
    expect((await deliver(signed.payload, signed.signature)).status).toBe(200);
    expect((await api(a, 'GET', `/orders/${order.id}`)).body).toMatchObject({
      status: 'expired',
      checkoutUrl: null,
    });
    expect(await balanceOf(a)).toBe(0);
  });

  it('asks Stripe about a checkout whose webhook never came: paid → credited, expired → expired', async () => {
    const a = await createTestAccount(stack, { creditUsd: 0 });
    const paid = await topup(a, 10);
    const lapsed = await topup(a, 20);
    stripe.completeSession(sessionOf(paid).id); // the customer paid; the webhook is lost
    stripe.expireSession(sessionOf(lapsed).id); // the checkout ran out; that webhook is lost too
    await db.query(
      `UPDATE billing.orders SET expires_at = now() - interval '10 minutes' WHERE id = ANY($1)`,
      [[paid.id, lapsed.id]],
    );
    await eventually(async () => (await api(a, 'GET', `/orders/${paid.id}`)).body.status === 'paid');
    await eventually(async () => (await api(a, 'GET', `/orders/${lapsed.id}`)).body.status === 'expired');
    expect(await balanceOf(a)).toBe(10);
  });

  it('refunds a top-up less what has been spent of it, and refuses when nothing is left', async () => {
    const a = await createTestAccount(stack, { creditUsd: 0 });
    const order = await paidTopup(a, 100);
    await spend(a, 30);
    expect(await balanceOf(a)).toBe(70);

    const refunded = await api(a, 'POST', `/orders/${order.id}/refund`, { reason: 'bought too much' });
    expect(refunded.status).toBe(200);
    expect(refunded.body).toMatchObject({
      status: 'refunded',
      refundedUsd: 70,
      refundReason: 'bought too much',
    });
    const stripeRefund = [...stripe.refunds.values()].find((r) => r.metadata.orderId === order.id)!;
    expect(stripeRefund).toMatchObject({ amount: 7000, reason: 'requested_by_customer' });
    expect(await balanceOf(a)).toBe(0);
    expect((await api(a, 'POST', `/orders/${order.id}/refund`, { reason: 'again' })).status).toBe(409);

    // Fully spent: nothing left to refund.
    const spentOrder = await paidTopup(a, 20);
    await spend(a, 20);
    const nothing = await api(a, 'POST', `/orders/${spentOrder.id}/refund`, { reason: 'x' });
    expect(nothing.status).toBe(409);
    expect(nothing.body.error.message).toContain('nothing is left');
    expect((await api(a, 'GET', `/orders/${spentOrder.id}`)).body.status).toBe('paid');

    // Spending draws on the oldest top-up first: the newer one is refundable in full.
    const older = await paidTopup(a, 50);
    const newer = await paidTopup(a, 50);
    await spend(a, 40);
    const r1 = await api(a, 'POST', `/orders/${newer.id}/refund`, { reason: 'newer' });
    expect(r1.body).toMatchObject({ status: 'refunded', refundedUsd: 50 });
    const r2 = await api(a, 'POST', `/orders/${older.id}/refund`, { reason: 'older' });
    expect(r2.body).toMatchObject({ status: 'refunded', refundedUsd: 10 });
    expect(await balanceOf(a)).toBe(0);

    expect((await api(a, 'POST', `/orders/${order.id}/refund`, {})).status).toBe(400);
    expect(await ledgerSum(a.id)).toBe(0);
  });

  it('keeps a refund pending until Stripe confirms it, and gives the money back when Stripe fails it', async () => {
    const a = await createTestAccount(stack, { creditUsd: 0 });
    const pendingOrder = await paidTopup(a, 40);
    const failingOrder = await paidTopup(a, 10);
    try {
      stripe.refundStatus = 'pending';
      const pending = await api(a, 'POST', `/orders/${pendingOrder.id}/refund`, { reason: 'later' });
      expect(pending.body).toMatchObject({ status: 'refund_pending', refundedUsd: 40 });
      expect(await balanceOf(a)).toBe(10);
      const refund = [...stripe.refunds.values()].find((r) => r.metadata.orderId === pendingOrder.id)!;
      const signed = stripe.signEvent(stripe.refundUpdated(refund.id, 'succeeded'));
      expect((await deliver(signed.payload, signed.signature)).status).toBe(200);
      expect((await api(a, 'GET', `/orders/${pendingOrder.id}`)).body.status).toBe('refunded');

      stripe.refundStatus = 'failed';
      const failed = await api(a, 'POST', `/orders/${failingOrder.id}/refund`, { reason: 'fails' });
      expect(failed.status).toBe(409);
      expect(await balanceOf(a)).toBe(10);
      expect((await api(a, 'GET', `/orders/${failingOrder.id}`)).body).toMatchObject({
        status: 'paid',
        refundedUsd: 0,
      });
      const kinds = (
        await db.query(`SELECT kind FROM billing.ledger_entries WHERE account_id = $1 ORDER BY id`, [a.id])
      ).rows;
      expect(kinds.map((r) => r.kind)).toEqual(['topup', 'topup', 'refund', 'refund', 'refund_reversal']);
      expect(await ledgerSum(a.id)).toBe(10_000_000);
    } finally {
      stripe.refundStatus = 'succeeded';
    }
  });

  it('lists orders newest first, 20 a page, filtered by status', async () => {
    const a = await createTestAccount(stack, { creditUsd: 0 });
    const created: string[] = [];
    for (let i = 0; i < 23; i++) created.push((await topup(a, 10)).id);
    await api(a, 'POST', `/orders/${created[0]}/cancel`);
    const first = await api(a, 'GET', '/orders');
    expect(first.body.data).toHaveLength(20);
    expect(first.body.data[0].id).toBe(created[22]);
    expect(first.body.nextCursor).toEqual(expect.any(String));
    const second = await api(a, 'GET', `/orders?cursor=${encodeURIComponent(first.body.nextCursor)}`);
    expect(second.body.data.map((o: OrderView) => o.id)).toEqual([created[2], created[1], created[0]]);
    expect(second.body.nextCursor).toBeNull();
    const cancelled = await api(a, 'GET', '/orders?status=cancelled');
    expect(cancelled.body.data.map((o: OrderView) => o.id)).toEqual([created[0]]);
    expect((await api(a, 'GET', '/orders?status=bogus')).status).toBe(400);
    expect((await api(a, 'GET', '/orders?cursor=garbage')).status).toBe(400);
  });
});
