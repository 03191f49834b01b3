/** What billing needs from a card processor: hosted checkout, refunds, receipts, verified webhooks. */
export interface CheckoutSession {
  id: string;
  url: string;
  expiresAt: Date | null;
}

export type RefundState = 'succeeded' | 'pending' | 'failed';

/** A verified provider event, reduced to what billing acts on. */
export type PaymentEvent =
  | {
      id: string;
      type: 'checkout.completed';
      sessionId: string;
      orderId: string | null;
      /** Whether the money is collected (`false` for delayed methods until `checkout.async_succeeded`). */
      paid: boolean;
      amountCents: number;
      currency: string;
      paymentIntentId: string | null;
    }
  | {
      id: string;
      type: 'checkout.async_succeeded';
      sessionId: string;
      orderId: string | null;
      amountCents: number;
      currency: string;
      paymentIntentId: string | null;
    }
  | {
      id: string;
      type: 'checkout.async_failed' | 'checkout.expired';
      sessionId: string;
      orderId: string | null;
    }
  | { id: string; type: 'refund.updated'; refundId: string; orderId: string | null; state: RefundState }
  | { id: string; type: 'ignored'; providerType: string };

export abstract class PaymentProvider {
  /** False when no credentials are configured: top-ups answer service_unavailable. */
  abstract readonly configured: boolean;
  abstract readonly webhooksConfigured: boolean;

  abstract createCheckoutSession(req: {
    orderId: string;
    accountId: string;
    amountCents: number;
    successUrl: string;
    cancelUrl: string;
  }): Promise<CheckoutSession>;

  /** Where a checkout stands (for orders whose webhook never came). */
  abstract getCheckoutSession(sessionId: string): Promise<{
    status: 'open' | 'complete' | 'expired';
    paid: boolean;
    amountCents: number;
    currency: string;
    paymentIntentId: string | null;
  }>;

  /** Ends a pending checkout; `complete` when the customer paid first (it can no longer be cancelled). */
  abstract expireCheckoutSession(sessionId: string): Promise<'expired' | 'complete'>;

  abstract refund(req: {
    attemptId: string;
    orderId: string;
    paymentIntentId: string;
    amountCents: number;
    reason: string;
  }): Promise<{ refundId: string; state: RefundState }>;

  /** The provider-hosted receipt of a payment, when it has one. */
  abstract receiptUrl(paymentIntentId: string): Promise<string | null>;

  /** Verifies the signature over the raw body; throws `InvalidWebhookSignature` otherwise. */
  abstract parseWebhook(payload: string, signature: string): PaymentEvent;
}

export class InvalidWebhookSignature extends Error {}
