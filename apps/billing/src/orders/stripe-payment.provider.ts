import { Inject, Injectable } from '@nestjs/common';
import type { BillingConfig } from '@torouter/config';
import { APP_CONFIG } from '@torouter/service-runtime';
import Stripe from 'stripe';
import {
  InvalidWebhookSignature,
  PaymentProvider,
  type CheckoutSession,
  type PaymentEvent,
  type RefundState,
} from './payment-provider';

/** Stripe Checkout sessions may live 30 minutes to 24 hours; top-ups use one hour. */
const checkoutLifetimeSeconds = 3600;

function refundState(status: string | null): RefundState {
  if (status === 'succeeded') return 'succeeded';
  if (status === 'failed' || status === 'canceled') return 'failed';
  return 'pending';
}

function idOf(v: string | { id: string } | null | undefined): string | null {
  if (!v) return null;
  return typeof v === 'string' ? v : v.id;
}

/**
 * The payment provider on the official `stripe` package: Checkout Sessions for top-ups, refunds on the
 * payment intent, webhooks verified against STRIPE_WEBHOOK_SECRET. STRIPE_API_BASE points the client
 * elsewhere (the tests' local fake Stripe).
 */
@Injectable()
export class StripePaymentProvider extends PaymentProvider {
  readonly configured: boolean;
  readonly webhooksConfigured: boolean;
  private readonly stripe: Stripe;

  constructor(@Inject(APP_CONFIG) private readonly config: BillingConfig) {
    super();
    this.configured = config.STRIPE_SECRET_KEY !== '';
    this.webhooksConfigured = config.STRIPE_WEBHOOK_SECRET !== '';
    const base = new URL(config.STRIPE_API_BASE);
    const protocol = base.protocol === 'http:' ? 'http' : 'https';
    this.stripe = new Stripe(config.STRIPE_SECRET_KEY || 'sk_unconfigured', {
      host: base.hostname,
      port: base.port || (protocol === 'http' ? 80 : 443),
      protocol,
      maxNetworkRetries: 2,
      timeout: 20_000,
      telemetry: false,
      appInfo: { name: 'ToRouter' },
    });
  }

  async createCheckoutSession(req: {
    orderId: string;
    accountId: string;
    amountCents: number;
    successUrl: string;
    cancelUrl: string;
  }): Promise<CheckoutSession> {
    const session = await this.stripe.checkout.sessions.create(
      {
        mode: 'payment',
        client_reference_id: req.orderId,
        metadata: { orderId: req.orderId, accountId: req.accountId },
        payment_intent_data: { metadata: { orderId: req.orderId, accountId: req.accountId } },
        line_items: [
          {
            quantity: 1,
            price_data: {
              currency: 'usd',
              unit_amount: req.amountCents,
              product_data: { name: 'ToRouter credit' },
            },
          },
        ],
        success_url: req.successUrl,
        cancel_url: req.cancelUrl,
        expires_at: Math.floor(Date.now() / 1000) + checkoutLifetimeSeconds,
      },
      { idempotencyKey: `checkout:${req.orderId}` },
    );
    if (!session.url) throw new Error('Stripe returned a Checkout Session without a URL');
    return {
      id: session.id,
      url: session.url,
      expiresAt: session.expires_at ? new Date(session.expires_at * 1000) : null,
    };
  }

  async getCheckoutSession(sessionId: string) {
    const s = await this.stripe.checkout.sessions.retrieve(sessionId);
    return {
      status: s.status ?? 'open',
      paid: s.payment_status === 'paid' || s.payment_status === 'no_payment_required',
      amountCents: s.amount_total ?? 0,
      currency: s.currency ?? 'usd',
      paymentIntentId: idOf(s.payment_intent),
    };
  }

  async expireCheckoutSession(sessionId: string): Promise<'expired' | 'complete'> {
    try {
      const s = await this.stripe.checkout.sessions.expire(sessionId);
      return s.status === 'complete' ? 'complete' : 'expired';
    } catch (e) {
      if (!(e instanceof Stripe.errors.StripeInvalidRequestError)) throw e;
      // Only an open session can be expired: find out what it is now.
      const s = await this.stripe.checkout.sessions.retrieve(sessionId);
      if (s.status === 'complete') return 'complete';
      if (s.status === 'expired') return 'expired';
      throw e;
    }
  }

  async refund(req: {
    attemptId: string;
    orderId: string;
    paymentIntentId: string;
    amountCents: number;
    reason: string;
  }): Promise<{ refundId: string; state: RefundState }> {
    const refund = await this.stripe.refunds.create(
      {
        payment_intent: req.paymentIntentId,
        amount: req.amountCents,
        reason: 'requested_by_customer',
        metadata: { orderId: req.orderId, refundAttemptId: req.attemptId, reason: req.reason.slice(0, 500) },
      },
      { idempotencyKey: `refund:${req.attemptId}` },
    );
    return { refundId: refund.id, state: refundState(refund.status) };
  }

  async receiptUrl(paymentIntentId: string): Promise<string | null> {
    const pi = await this.stripe.paymentIntents.retrieve(paymentIntentId, { expand: ['latest_charge'] });
    const charge = pi.latest_charge;
    return charge && typeof charge !== 'string' ? (charge.receipt_url ?? null) : null;
  }

  parseWebhook(payload: string, signature: string): PaymentEvent {
    let event: Stripe.Event;
    try {
      event = this.stripe.webhooks.constructEvent(payload, signature, this.config.STRIPE_WEBHOOK_SECRET);
    } catch (e) {
      throw new InvalidWebhookSignature(e instanceof Error ? e.message : String(e));
    }
    switch (event.type) {
      case 'checkout.session.completed':
      case 'checkout.session.async_payment_succeeded': {
        const s = event.data.object;
        const common = {
          id: event.id,
          sessionId: s.id,
          orderId: s.client_reference_id ?? s.metadata?.orderId ?? null,
          amountCents: s.amount_total ?? 0,
          currency: s.currency ?? 'usd',
          paymentIntentId: idOf(s.payment_intent),
        };
        return event.type === 'checkout.session.completed'
          ? {
              ...common,
              type: 'checkout.completed',
              paid: s.payment_status === 'paid' || s.payment_status === 'no_payment_required',
            }
          : { ...common, type: 'checkout.async_succeeded' };
      }
      case 'checkout.session.async_payment_failed':
      case 'checkout.session.expired': {
        const s = event.data.object;
        return {
          id: event.id,
          type: event.type === 'checkout.session.expired' ? 'checkout.expired' : 'checkout.async_failed',
          sessionId: s.id,
          orderId: s.client_reference_id ?? s.metadata?.orderId ?? null,
        };
      }
      case 'refund.created':
      case 'refund.updated':
      case 'refund.failed': {
        const r = event.data.object;
        return {
          id: event.id,
          type: 'refund.updated',
          refundId: r.id,
          orderId: r.metadata?.orderId ?? null,
          state: event.type === 'refund.failed' ? 'failed' : refundState(r.status),
        };
      }
      default:
        return { id: event.id, type: 'ignored', providerType: event.type };
    }
  }
}
