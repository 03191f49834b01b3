import { Inject, Injectable, Logger } from '@nestjs/common';
import type { BillingConfig } from '@torouter/config';
import {
  DomainError,
  ErrorCodes,
  TopupPresetsUsd,
  type OrderPage,
  type OrderStatus,
  type OrderView,
  type StripeWebhookResult,
} from '@torouter/contracts';
import { microToUsd, microToUsdString, usdToMicro } from '@torouter/money';
import { APP_CONFIG } from '@torouter/service-runtime';
import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { BillingAccountsRepository, type BillingAccount } from '../accounts/billing-accounts.repository';
import { decodeCursor, encodeCursor } from '../database/cursor';
import { transaction, type Sql } from '../database/sql';
import { LedgerRepository } from '../ledger/ledger.repository';
import { accountCounter, SpendStateService } from '../spend-state/spend-state.service';
import { OrdersRepository, type Order } from './orders.repository';
import { InvalidWebhookSignature, PaymentProvider, type PaymentEvent } from './payment-provider';

const pageSize = 20;
/** How long after a checkout's expiry its webhook is awaited before Stripe is asked directly. */
const staleCheckoutMarginMs = 5 * 60_000;
const microPerCent = 10_000;

export function toOrderView(o: Order): OrderView {
  return {
    id: o.id,
    status: o.status,
    amountUsd: microToUsd(o.amountMicro),
    currency: 'usd',
    method: 'stripe_checkout',
    checkoutUrl: o.status === 'pending' ? o.checkoutUrl : null,
    receiptUrl: o.receiptUrl,
    refundedUsd: microToUsd(o.refundedMicro),
    refundReason: o.refundReason,
    failureReason: o.failureReason,
    expiresAt: o.expiresAt?.toISOString() ?? null,
    paidAt: o.paidAt?.toISOString() ?? null,
    createdAt: o.createdAt.toISOString(),
    updatedAt: o.updatedAt.toISOString(),
  };
}

const topupKey = (orderId: string) => `topup:${orderId}`;

/**
 * Top-ups through Stripe Checkout and their orders: created pending with a checkout URL, credited exactly
 * once when the signed webhook says the payment is collected (however often it is delivered), expired,
 * cancelled, refunded (less whatever of the top-up has been spent).
 */
@Injectable()
export class OrdersService {
  private readonly logger = new Logger(OrdersService.name);

  constructor(
    @Inject(APP_CONFIG) private readonly config: BillingConfig,
    private readonly dataSource: DataSource,
    private readonly accounts: BillingAccountsRepository,
    private readonly ledger: LedgerRepository,
    private readonly orders: OrdersRepository,
    private readonly provider: PaymentProvider,
    private readonly spendState: SpendStateService,
  ) {}

  async createTopup(accountId: string, amountUsd: number): Promise<OrderView> {
    const amountMicro = usdToMicro(amountUsd);
    const min = usdToMicro(this.config.BILLING_TOPUP_MIN_USD);
    const max = usdToMicro(this.config.BILLING_TOPUP_MAX_USD);
    const preset = (TopupPresetsUsd as readonly number[]).some((p) => usdToMicro(p) === amountMicro);
    if (!preset && (amountMicro < min || amountMicro > max)) {
      throw new DomainError(
        ErrorCodes.VALIDATION_FAILED,
        `amountUsd: a top-up is one of ${TopupPresetsUsd.join(', ')} USD or a custom amount from ${microToUsdString(min)} to ${microToUsdString(max)} USD`,
        { fields: [{ field: 'amountUsd', message: 'outside the top-up bounds' }] },
      );
    }
    if (!this.provider.configured)
      throw new DomainError(
        ErrorCodes.SERVICE_UNAVAILABLE,
        'top-ups are not available: no payment provider is configured (STRIPE_SECRET_KEY)',
      );
    await this.accounts.ensure(accountId);
    const order = await this.orders.insert(accountId, amountMicro);
    const base = this.config.PUBLIC_BASE_URL.replace(/\/$/, '');
    try {
      const session = await this.provider.createCheckoutSession({
        orderId: order.id,
        accountId,
        amountCents: amountMicro / microPerCent,
        successUrl: `${base}/payment/result?order=${order.id}&session_id={CHECKOUT_SESSION_ID}`,
        cancelUrl: `${base}/purchase?order=${order.id}&cancelled=1`,
      });
      const updated = await this.orders.patch(this.dataSource, order.id, {
        checkoutSessionId: session.id,
        checkoutUrl: session.url,
        expiresAt: session.expiresAt,
      });
      return toOrderView(updated);
    } catch (e) {
      this.logger.error(`starting a Stripe checkout for order ${order.id} failed: ${String(e)}`);
      await this.orders.patch(this.dataSource, order.id, {
        status: 'failed',
        failureReason: 'the payment provider could not start a checkout',
      });
      throw new DomainError(
        ErrorCodes.SERVICE_UNAVAILABLE,
        'the payment provider could not start a checkout; nothing was charged, try again',
      );
    }
  }

  async listOrders(accountId: string, status: OrderStatus | undefined, cursor?: string): Promise<OrderPage> {
    const after = decodeCursor(cursor, ['string', 'string']);
    const page = await this.orders.page(
      accountId,
      status,
      after ? { createdAt: after[0] as string, id: after[1] as string } : null,
      pageSize + 1,
    );
    const data = page.slice(0, pageSize);
    const last = data[data.length - 1];
    return {
      data: data.map(toOrderView),
      nextCursor: page.length > pageSize ? encodeCursor([last.createdAtExact, last.id]) : null,
    };
  }

  async getOrder(accountId: string, orderId: string): Promise<OrderView> {
    return toOrderView(await this.owned(accountId, orderId));
  }

  /** A pending order can be cancelled (its checkout is expired at Stripe first: nothing is captured). */
  async cancelOrder(accountId: string, orderId: string): Promise<OrderView> {
    const order = await this.owned(accountId, orderId);
    if (order.status !== 'pending')
      throw new DomainError(
        ErrorCodes.CONFLICT,
        `only a pending order can be cancelled; this one is ${order.status}`,
      );
    if (order.checkoutSessionId) {
      let outcome: 'expired' | 'complete';
      try {
        outcome = await this.provider.expireCheckoutSession(order.checkoutSessionId);
      } catch (e) {
        this.logger.error(`expiring Stripe session ${order.checkoutSessionId} failed: ${String(e)}`);
        throw new DomainError(
          ErrorCodes.SERVICE_UNAVAILABLE,
          'the payment provider did not answer; try again',
        );
      }
      if (outcome === 'complete')
        throw new DomainError(
          ErrorCodes.CONFLICT,
          'this order has just been paid and can no longer be cancelled; the balance is credited shortly',
        );
    }
    const updated = await transaction(this.dataSource, async (q) => {
      const locked = (await this.orders.lock(q, { id: orderId }))!;
      if (locked.status !== 'pending')
        throw new DomainError(
          ErrorCodes.CONFLICT,
          `only a pending order can be cancelled; this one is ${locked.status}`,
        );
      return this.orders.patch(q, orderId, { status: 'cancelled' });
    });
    return toOrderView(updated);
  }

  /**
   * Refunds a paid top-up to the original payment method. Balance already spent from it is deducted
   * first: spending draws on the oldest credit, so what remains of this top-up is
   * min(its credit, available balance − what is still credited of everything received after it).
   * Nothing left → refused.
   */
  async refundOrder(accountId: string, orderId: string, reason: string): Promise<OrderView> {
    await this.owned(accountId, orderId);
    const reserved = await this.spendState.reservedMicroOrZero(accountId);
    const attemptId = randomUUID();
    const started = await transaction(this.dataSource, async (q) => {
      const order = (await this.orders.lock(q, { id: orderId }))!;
      if (order.status === 'refund_pending' || order.status === 'refunded')
        throw new DomainError(ErrorCodes.CONFLICT, 'this order has been refunded already');
      if (order.status !== 'paid' || !order.paymentIntentId)
        throw new DomainError(
          ErrorCodes.CONFLICT,
          `only a paid order can be refunded; this one is ${order.status}`,
        );
      const account = await this.accounts.lock(q, accountId);
      const credit = await this.ledger.findByKey(topupKey(order.id), q);
      const newer =
        (credit ? await this.ledger.otherCreditsAfter(q, accountId, credit.id) : 0) +
        (order.paidAt ? await this.orders.netCreditPaidAfter(q, accountId, order.paidAt) : 0);
      const unspent = Math.min(
        order.creditedMicro - order.refundedMicro,
        account.balanceMicro - reserved - newer,
      );
      const cents = Math.floor(Math.max(unspent, 0) / microPerCent);
      if (cents <= 0)
        throw new DomainError(
          ErrorCodes.CONFLICT,
          'nothing is left to refund: the balance from this top-up has been spent',
          { refundableUsd: 0 },
        );
      const amountMicro = cents * microPerCent;
      await this.ledger.append(q, {
        accountId,
        kind: 'refund',
        amountMicro: -amountMicro,
        idempotencyKey: `refund:${attemptId}`,
        reference: order.id,
        note: reason,
      });
      const patched = await this.orders.patch(q, order.id, {
        status: 'refund_pending',
        refundedMicro: amountMicro,
        refundReason: reason,
        refundAttemptId: attemptId,
        failureReason: null,
      });
      return { order: patched, account: (await this.accounts.find(accountId, q))!, cents };
    });
    await this.spendState.writeSoon([accountCounter(started.account)]);

    let result: { refundId: string; state: 'succeeded' | 'pending' | 'failed' };
    try {
      result = await this.provider.refund({
        attemptId,
        orderId,
        paymentIntentId: started.order.paymentIntentId!,
        amountCents: started.cents,
        reason,
      });
    } catch (e) {
      this.logger.error(`Stripe refund of order ${orderId} failed: ${String(e)}`);
      await this.revertRefund(orderId, attemptId, 'the payment provider refused the refund');
      throw new DomainError(
        ErrorCodes.SERVICE_UNAVAILABLE,
        'the payment provider could not refund this order; the balance was restored, try again later',
      );
    }
    if (result.state === 'failed') {
      await this.revertRefund(orderId, attemptId, 'the payment provider refused the refund');
      throw new DomainError(
        ErrorCodes.CONFLICT,
        'the payment provider refused the refund; the balance was restored',
      );
    }
    const updated = await transaction(this.dataSource, async (q) => {
      const order = (await this.orders.lock(q, { id: orderId }))!;
      // A webhook may have finished it meanwhile.
      if (order.status !== 'refund_pending' || order.refundAttemptId !== attemptId) return order;
      return this.orders.patch(q, orderId, {
        refundId: result.refundId,
        status: result.state === 'succeeded' ? 'refunded' : 'refund_pending',
      });
    });
    return toOrderView(updated);
  }

  /** Gives back a refund's debit (the provider refused or failed it); the order is paid again. */
  private async revertRefund(orderId: string, attemptId: string, why: string): Promise<void> {
    const account = await transaction(this.dataSource, async (q) => {
      const order = await this.orders.lock(q, { id: orderId });
      if (!order || order.status !== 'refund_pending' || order.refundAttemptId !== attemptId) return null;
      return this.revertRefundLocked(q, order, why);
    });
    if (account) await this.spendState.writeSoon([accountCounter(account)]);
  }

  private async revertRefundLocked(q: Sql, order: Order, why: string): Promise<BillingAccount> {
    await this.accounts.lock(q, order.accountId);
    await this.ledger.append(q, {
      accountId: order.accountId,
      kind: 'refund_reversal',
      amountMicro: order.refundedMicro,
      idempotencyKey: `refund-reversal:${order.refundAttemptId}`,
      reference: order.id,
      note: why,
    });
    await this.orders.patch(q, order.id, {
      status: 'paid',
      refundedMicro: 0,
      refundId: null,
      failureReason: why,
    });
    return (await this.accounts.find(order.accountId, q))!;
  }

  /** A Stripe webhook: verified over the raw body, then applied idempotently. */
  async handleStripeWebhook(payload: string, signature: string): Promise<StripeWebhookResult> {
    if (!this.provider.webhooksConfigured)
      throw new DomainError(
        ErrorCodes.SERVICE_UNAVAILABLE,
        'Stripe webhooks are not configured (STRIPE_WEBHOOK_SECRET)',
      );
    let event: PaymentEvent;
    try {
      event = this.provider.parseWebhook(payload, signature);
    } catch (e) {
      if (e instanceof InvalidWebhookSignature)
        throw new DomainError(ErrorCodes.VALIDATION_FAILED, `Stripe-Signature: ${e.message}`, {
          fields: [{ field: 'Stripe-Signature', message: 'signature verification failed' }],
        });
      throw e;
    }
    const handled = await this.apply(event);
    return {
      received: true,
      eventId: event.id,
      eventType: event.type === 'ignored' ? event.providerType : event.type,
      handled,
    };
  }

  private async apply(event: PaymentEvent): Promise<boolean> {
    switch (event.type) {
      case 'checkout.completed':
        if (!event.paid) return true; // a delayed method: wait for async_payment_succeeded
        return this.credit(event);
      case 'checkout.async_succeeded':
        return this.credit(event);
      case 'checkout.expired':
      case 'checkout.async_failed': {
        const status: OrderStatus = event.type === 'checkout.expired' ? 'expired' : 'failed';
        return transaction(this.dataSource, async (q) => {
          const order = await this.orders.lock(q, { id: event.orderId, sessionId: event.sessionId });
          if (!order) return this.unknownOrder(event.sessionId);
          if (order.status === 'pending')
            await this.orders.patch(q, order.id, {
              status,
              failureReason: status === 'failed' ? 'the payment failed' : null,
            });
          return true;
        });
      }
      case 'refund.updated':
        return this.refundUpdated(event);
      case 'ignored':
        return false;
    }
  }

  /** Credits a collected payment exactly once (the ledger key `topup:<orderId>` cannot repeat). */
  private async credit(event: {
    sessionId: string;
    orderId: string | null;
    amountCents: number;
    currency: string;
    paymentIntentId: string | null;
  }): Promise<boolean> {
    const outcome = await transaction(this.dataSource, async (q) => {
      const order = await this.orders.lock(q, { id: event.orderId, sessionId: event.sessionId });
      if (!order) return null;
      if (order.creditedMicro > 0) return { order, account: null };
      if (event.currency.toLowerCase() !== 'usd')
        this.logger.error(`order ${order.id}: Stripe collected ${event.currency}, expected usd`);
      const amountMicro = event.amountCents * microPerCent;
      if (amountMicro !== order.amountMicro)
        this.logger.warn(
          `order ${order.id}: Stripe collected ${event.amountCents} cents for an order of ${microToUsdString(order.amountMicro)} USD; crediting what was collected`,
        );
      await this.accounts.lock(q, order.accountId);
      const { inserted } = await this.ledger.append(q, {
        accountId: order.accountId,
        kind: 'topup',
        amountMicro,
        idempotencyKey: topupKey(order.id),
        reference: order.id,
        note: `Stripe Checkout ${event.sessionId}`,
      });
      const paid = await this.orders.patch(q, order.id, {
        status: 'paid',
        creditedMicro: amountMicro,
        paidAt: new Date(),
        paymentIntentId: event.paymentIntentId,
        failureReason: null,
      });
      return { order: paid, account: inserted ? await this.accounts.find(order.accountId, q) : null };
    });
    if (!outcome) return this.unknownOrder(event.sessionId);
    if (outcome.account) await this.spendState.writeSoon([accountCounter(outcome.account)]);
    if (outcome.account && event.paymentIntentId && !outcome.order.receiptUrl) {
      // Best effort: the receipt link is a convenience, the credit above is what matters.
      try {
        const url = await this.provider.receiptUrl(event.paymentIntentId);
        if (url) await this.orders.patch(this.dataSource, outcome.order.id, { receiptUrl: url });
      } catch (e) {
        this.logger.warn(`no receipt URL for order ${outcome.order.id}: ${String(e)}`);
      }
    }
    return true;
  }

  private async refundUpdated(event: {
    refundId: string;
    orderId: string | null;
    state: 'succeeded' | 'pending' | 'failed';
  }): Promise<boolean> {
    const account = await transaction(this.dataSource, async (q) => {
      const order = await this.orders.lock(q, { refundId: event.refundId, id: event.orderId });
      if (!order || order.status !== 'refund_pending') return null;
      if (event.state === 'succeeded') {
        await this.orders.patch(q, order.id, { status: 'refunded', refundId: event.refundId });
        return null;
      }
      if (event.state === 'failed')
        return this.revertRefundLocked(q, order, 'the refund failed at the payment provider');
      if (!order.refundId) await this.orders.patch(q, order.id, { refundId: event.refundId });
      return null;
    });
    if (account) await this.spendState.writeSoon([accountCounter(account)]);
    return true;
  }

  /**
   * Pending orders past their checkout's expiry (with a margin for the webhook) are asked of Stripe
   * directly: a paid one is credited (a lost webhook), an expired one marked so. Run periodically.
   */
  async reconcileStalePending(): Promise<number> {
    if (!this.provider.configured) return 0;
    const stale = await this.orders.stalePending(new Date(Date.now() - staleCheckoutMarginMs), 50);
    for (const order of stale) {
      try {
        const s = await this.provider.getCheckoutSession(order.checkoutSessionId!);
        if (s.status === 'complete' && s.paid) {
          this.logger.warn(`order ${order.id} was paid but its webhook never arrived: crediting it now`);
          await this.credit({ sessionId: order.checkoutSessionId!, orderId: order.id, ...s });
        } else if (s.status === 'expired') {
          await this.apply({
            id: 'reconcile',
            type: 'checkout.expired',
            sessionId: order.checkoutSessionId!,
            orderId: order.id,
          });
        }
      } catch (e) {
        this.logger.warn(`could not reconcile order ${order.id} with Stripe: ${String(e)}`);
      }
    }
    return stale.length;
  }

  private unknownOrder(sessionId: string): boolean {
    // Not ours (another integration on the same Stripe account): acknowledge, nothing to do.
    this.logger.warn(`Stripe event for unknown checkout session ${sessionId}`);
    return false;
  }

  private async owned(accountId: string, orderId: string): Promise<Order> {
    const order = await this.orders.findOfAccount(accountId, orderId);
    if (!order) throw new DomainError(ErrorCodes.NOT_FOUND, `order ${orderId} does not exist`);
    return order;
  }
}
