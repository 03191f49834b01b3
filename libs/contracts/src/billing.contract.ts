import { z } from 'zod';
import { Subjects } from './subjects';

const uuid = z.string().uuid();

/**
 * What other services ask billing. The router caches plan and access snapshots in memory (no NATS per
 * request) and reloads on `billing.account-access.changed.v1` / `billing.plan.changed.v1`.
 *
 * Money: requests and views carry USD as JSON numbers (display and input only); billing converts them to
 * integer micro-USD exactly (`usdToMicro`) and never does arithmetic on the floats.
 */

/** True when `v` has at most `places` decimals (as JSON numbers are written by people: 12.5, 0.000001). */
function atMostDecimals(places: number): (v: number) => boolean {
  return (v) => v.toFixed(places + 1).endsWith('0');
}

/** A USD amount with at most 6 decimals (micro-USD exact), below a billion. */
const usd = z
  .number()
  .finite()
  .gt(-1e9)
  .lt(1e9)
  .refine(atMostDecimals(6), 'must have at most 6 decimal places');
const nonNegativeUsd = usd.refine((v) => v >= 0, 'must be ≥ 0');

/** Default limits a new key of this plan takes (0 = no cap / window off / never expires). */
export const DefaultKeyLimits = z.object({
  quotaUsd: z.number().min(0).default(0),
  expiresInDays: z.number().int().min(0).default(0),
  per5h: z.number().int().min(0).default(0),
  per1d: z.number().int().min(0).default(0),
  per7d: z.number().int().min(0).default(0),
  rpm: z.number().int().min(0).default(0),
  tpm: z.number().int().min(0).default(0),
});
export type DefaultKeyLimits = z.infer<typeof DefaultKeyLimits>;

export type PlanKind = 'payg' | 'subscription';
export type PlanPeriod = 'day' | 'week' | 'month';

export interface PlanView {
  id: string;
  name: string;
  kind: PlanKind;
  /** The plan's catalog; empty = every model. */
  models: string[];
  priceUsd: number;
  period: PlanPeriod | null;
  dailyCapUsd: number;
  weeklyCapUsd: number;
  monthlyCapUsd: number;
  defaultKeyLimits: DefaultKeyLimits;
  /** 10000 = ×1. */
  priceMultiplierBp: number;
  isDefault: boolean;
  /** Archived plans take no new subscriptions; keys already on them keep working. */
  archived: boolean;
  createdAt: string;
  updatedAt: string;
}

export const PlanGetRequest = z.object({ planId: z.string().min(1) });
export type PlanGetRequest = z.infer<typeof PlanGetRequest>;

export const AccountDefaultPlanRequest = z.object({ accountId: uuid });
export type AccountDefaultPlanRequest = z.infer<typeof AccountDefaultPlanRequest>;

// ---- plans (admin) ---------------------------------------------------------------------------------

/** The editable fields of a plan; kind-specific rules (a subscription needs a price and a period) are billing's. */
const planFields = {
  name: z.string().trim().min(1).max(100),
  /** The plan's catalog (literal catalog model ids); empty = every model. */
  models: z.array(z.string().trim().min(1).max(200)).max(2000),
  priceUsd: nonNegativeUsd,
  period: z.enum(['day', 'week', 'month']),
  dailyCapUsd: nonNegativeUsd,
  weeklyCapUsd: nonNegativeUsd,
  monthlyCapUsd: nonNegativeUsd,
  defaultKeyLimits: DefaultKeyLimits.partial(),
  /** What usage on this plan costs relative to the catalog price: 1 = list price, 0.8 = 20 % off. */
  priceMultiplier: z
    .number()
    .positive()
    .max(100)
    .refine(atMostDecimals(4), 'must have at most 4 decimal places'),
  isDefault: z.boolean(),
};

export const PlanCreateRequest = z.object({
  name: planFields.name,
  kind: z.enum(['payg', 'subscription']),
  models: planFields.models.default([]),
  priceUsd: planFields.priceUsd.optional(),
  period: planFields.period.optional(),
  dailyCapUsd: planFields.dailyCapUsd.optional(),
  weeklyCapUsd: planFields.weeklyCapUsd.optional(),
  monthlyCapUsd: planFields.monthlyCapUsd.optional(),
  defaultKeyLimits: planFields.defaultKeyLimits.optional(),
  priceMultiplier: planFields.priceMultiplier.optional(),
  isDefault: planFields.isDefault.optional(),
});
export type PlanCreateRequest = z.infer<typeof PlanCreateRequest>;

/** PATCH body: any subset; `kind` never changes (usage already settled under it). */
export const PlanPatch = z
  .object({
    name: planFields.name,
    models: planFields.models,
    priceUsd: planFields.priceUsd,
    period: planFields.period,
    dailyCapUsd: planFields.dailyCapUsd,
    weeklyCapUsd: planFields.weeklyCapUsd,
    monthlyCapUsd: planFields.monthlyCapUsd,
    defaultKeyLimits: planFields.defaultKeyLimits,
    priceMultiplier: planFields.priceMultiplier,
    isDefault: planFields.isDefault,
    archived: z.boolean(),
  })
  .partial()
  .strict();
export type PlanPatch = z.infer<typeof PlanPatch>;

export const PlanUpdateRequest = z.object({ planId: uuid, patch: PlanPatch });
export type PlanUpdateRequest = z.infer<typeof PlanUpdateRequest>;

export const PlanListRequest = z.object({ includeArchived: z.boolean().default(false) });
export type PlanListRequest = z.input<typeof PlanListRequest>;

export const PlanChangedEvent = z.object({ planId: uuid });
export type PlanChangedEvent = z.infer<typeof PlanChangedEvent>;

// ---- balance and ledger ----------------------------------------------------------------------------

export type SubscriptionStatus = 'active' | 'cancelled' | 'expired' | 'invalid';

export interface SubscriptionView {
  id: string;
  planId: string;
  planName: string;
  /** active; cancelled (ended after a cancel); expired (a grant ran out); invalid (a renewal failed). */
  status: SubscriptionStatus;
  /** Granted by an administrator without charge (does not renew). */
  granted: boolean;
  cancelAtPeriodEnd: boolean;
  currentPeriodStart: string;
  currentPeriodEnd: string;
  createdAt: string;
  /** Spend in the current UTC day / ISO week / calendar month against the plan's caps (0 = no cap). */
  spend: { dailyUsd: number; weeklyUsd: number; monthlyUsd: number };
  caps: { dailyUsd: number; weeklyUsd: number; monthlyUsd: number };
}

export const BalanceGetRequest = z.object({ accountId: uuid });
export type BalanceGetRequest = z.infer<typeof BalanceGetRequest>;
export interface BalanceView {
  accountId: string;
  balanceUsd: number;
  /** Held by requests in flight (and completed ones not settled yet). */
  reservedUsd: number;
  /** The latest subscription per plan, newest first. */
  subscriptions: SubscriptionView[];
}

export const LedgerEntryKind = z.enum([
  'topup',
  'refund',
  'refund_reversal',
  'admin_credit',
  'admin_debit',
  'signup_credit',
  'subscription_charge',
  'usage_charge',
]);
export type LedgerEntryKind = z.infer<typeof LedgerEntryKind>;

export interface LedgerEntryView {
  id: string;
  kind: LedgerEntryKind;
  /** Signed: credits positive, debits negative. */
  amountUsd: number;
  balanceAfterUsd: number;
  /** The order, subscription or request the entry belongs to. */
  reference: string | null;
  note: string | null;
  createdAt: string;
}

const cursor = z.string().max(200).optional();

export const LedgerListRequest = z.object({
  accountId: uuid,
  cursor,
  limit: z.number().int().min(1).max(100).default(20),
});
export type LedgerListRequest = z.input<typeof LedgerListRequest>;
export interface LedgerPage {
  data: LedgerEntryView[];
  /** Pass back as `cursor` for the next (older) page; null on the last page. */
  nextCursor: string | null;
}

export const AdminCreditBody = z.object({
  /** Positive credits, negative debits. */
  amountUsd: usd.refine((v) => v !== 0, 'must not be 0'),
  note: z.string().trim().max(500).default(''),
});
export type AdminCreditBody = z.input<typeof AdminCreditBody>;

export const AdminCreditRequest = AdminCreditBody.extend({
  accountId: uuid,
  idempotencyKey: z
    .string()
    .min(1)
    .max(255)
    .regex(/^[\x21-\x7e]+$/, 'printable ASCII without spaces'),
});
export type AdminCreditRequest = z.input<typeof AdminCreditRequest>;
export interface AdminCreditResult {
  entry: LedgerEntryView;
  balanceUsd: number;
  /** True when this key was used before with the same body: the first result, no money moved. */
  replayed: boolean;
}

// ---- top-ups and orders ----------------------------------------------------------------------------

export const TopupPresetsUsd = [10, 20, 50, 100, 200, 500, 1000, 2000, 5000] as const;

export const OrderStatus = z.enum([
  'pending',
  'paid',
  'failed',
  'cancelled',
  'expired',
  'refund_pending',
  'refunded',
]);
export type OrderStatus = z.infer<typeof OrderStatus>;

export interface OrderView {
  id: string;
  status: OrderStatus;
  amountUsd: number;
  currency: 'usd';
  method: 'stripe_checkout';
  /** Where to pay (resume) while the order is pending. */
  checkoutUrl: string | null;
  /** The provider-hosted receipt once paid. */
  receiptUrl: string | null;
  refundedUsd: number;
  refundReason: string | null;
  failureReason: string | null;
  expiresAt: string | null;
  paidAt: string | null;
  createdAt: string;
  updatedAt: string;
}

export const TopupBody = z.object({
  amountUsd: z
    .number()
    .finite()
    .positive()
    .lt(1e9)
    .refine(atMostDecimals(2), 'must be whole cents (at most 2 decimals)'),
});
export type TopupBody = z.infer<typeof TopupBody>;
export const TopupCreateRequest = TopupBody.extend({ accountId: uuid });
export type TopupCreateRequest = z.infer<typeof TopupCreateRequest>;

export const OrderListRequest = z.object({ accountId: uuid, status: OrderStatus.optional(), cursor });
export type OrderListRequest = z.infer<typeof OrderListRequest>;
export interface OrderPage {
  data: OrderView[];
  nextCursor: string | null;
}

export const OrderRequest = z.object({ accountId: uuid, orderId: uuid });
export type OrderRequest = z.infer<typeof OrderRequest>;

export const OrderRefundBody = z.object({ reason: z.string().trim().min(1).max(500) });
export type OrderRefundBody = z.infer<typeof OrderRefundBody>;
export const OrderRefundRequest = OrderRequest.extend(OrderRefundBody.shape);
export type OrderRefundRequest = z.infer<typeof OrderRefundRequest>;

/** The webhook exactly as Stripe sent it: billing verifies the signature over these bytes. */
export const StripeWebhookRequest = z.object({
  payload: z
    .string()
    .min(1)
    .max(1024 * 1024),
  signature: z.string().max(4096),
});
export type StripeWebhookRequest = z.infer<typeof StripeWebhookRequest>;
export interface StripeWebhookResult {
  received: true;
  eventId: string;
  eventType: string;
  /** False for event types billing does not act on (acknowledged anyway, so Stripe stops resending). */
  handled: boolean;
}

// ---- subscriptions ---------------------------------------------------------------------------------

export const SubscriptionBody = z.object({ planId: uuid });
export type SubscriptionBody = z.infer<typeof SubscriptionBody>;
export const SubscriptionCreateRequest = SubscriptionBody.extend({ accountId: uuid });
export type SubscriptionCreateRequest = z.infer<typeof SubscriptionCreateRequest>;
export const SubscriptionCancelRequest = z.object({ accountId: uuid, subscriptionId: uuid });
export type SubscriptionCancelRequest = z.infer<typeof SubscriptionCancelRequest>;
export const SubscriptionListRequest = z.object({ accountId: uuid });
export type SubscriptionListRequest = z.infer<typeof SubscriptionListRequest>;

// ---- what the router caches ------------------------------------------------------------------------

export const AccountAccessRequest = z.object({ accountId: uuid });
export type AccountAccessRequest = z.infer<typeof AccountAccessRequest>;
/** An account's plans as the data plane needs them: the default plan and the latest subscription per plan. */
export interface AccountAccessView {
  accountId: string;
  defaultPlanId: string;
  subscriptions: Array<{
    id: string;
    planId: string;
    status: SubscriptionStatus;
    currentPeriodEnd: string;
  }>;
}

/** Broadcast (every router replica): the account's subscriptions or default plan changed. */
export const AccountAccessChangedEvent = z.object({ accountId: uuid });
export type AccountAccessChangedEvent = z.infer<typeof AccountAccessChangedEvent>;

/** Asks billing to (re)write an account's spend counters into Redis from Postgres (a router saw none). */
export const SpendStateLoadRequest = z.object({
  accountId: uuid,
  keyId: uuid.nullable(),
  planId: uuid.nullable(),
  /** The router's clock: the cap windows containing this instant are loaded (as well as billing's own). */
  at: z.string().datetime().optional(),
});
export type SpendStateLoadRequest = z.infer<typeof SpendStateLoadRequest>;

// ---- spend counters in Redis (shared by billing and the routers) ----------------------------------

/**
 * The spend state the router checks per request lives in Redis under the namespace prefix, one hash per
 * counter with fields `v` (the settled value from Postgres: balance, key spend or window spend), `ver`
 * (the Postgres row version `v` came from; billing only ever writes a newer one) and `r` (micro-USD
 * reserved by requests not settled yet). Each reservation is a field of `<counter>:a` (id → amount) and a
 * member of `<counter>:z` (id → expiry, ms), so a crashed request's hold expires. Counters without `ver`
 * are unknown: the router asks billing to load them (`billing.spend-state.load.v1`) and fails closed.
 */
export const SpendCounterKeys = {
  account: (accountId: string) => `spend:acct:${accountId}`,
  key: (keyId: string) => `spend:key:${keyId}`,
  window: (accountId: string, planId: string, kind: SpendWindowKind, start: Date) =>
    `spend:win:${accountId}:${planId}:${kind}:${start.getTime()}`,
} as const;

/** Subscription cap windows: UTC calendar day, ISO week (Monday 00:00 UTC) and calendar month. */
export type SpendWindowKind = 'd' | 'w' | 'm';
export const SpendWindowKinds: readonly SpendWindowKind[] = ['d', 'w', 'm'];

export function spendWindow(kind: SpendWindowKind, at: Date): { start: Date; end: Date } {
  const y = at.getUTCFullYear();
  const mo = at.getUTCMonth();
  const d = at.getUTCDate();
  if (kind === 'd') return { start: new Date(Date.UTC(y, mo, d)), end: new Date(Date.UTC(y, mo, d + 1)) };
  if (kind === 'w') {
    const sinceMonday = (at.getUTCDay() + 6) % 7;
    return {
      start: new Date(Date.UTC(y, mo, d - sinceMonday)),
      end: new Date(Date.UTC(y, mo, d - sinceMonday + 7)),
    };
  }
  return { start: new Date(Date.UTC(y, mo, 1)), end: new Date(Date.UTC(y, mo + 1, 1)) };
}

export interface BillingRpcContracts {
  [Subjects.billingPlanGet]: { request: PlanGetRequest; response: PlanView | null };
  [Subjects.billingAccountDefaultPlanGet]: { request: AccountDefaultPlanRequest; response: PlanView };
  [Subjects.billingBalanceGet]: { request: BalanceGetRequest; response: BalanceView };
  [Subjects.billingPlanCreate]: { request: PlanCreateRequest; response: PlanView };
  [Subjects.billingPlanList]: { request: PlanListRequest; response: PlanView[] };
  [Subjects.billingPlanUpdate]: { request: PlanUpdateRequest; response: PlanView };
  [Subjects.billingLedgerList]: { request: LedgerListRequest; response: LedgerPage };
  [Subjects.billingCreditCreate]: { request: AdminCreditRequest; response: AdminCreditResult };
  [Subjects.billingTopupCreate]: { request: TopupCreateRequest; response: OrderView };
  [Subjects.billingOrderList]: { request: OrderListRequest; response: OrderPage };
  [Subjects.billingOrderGet]: { request: OrderRequest; response: OrderView };
  [Subjects.billingOrderCancel]: { request: OrderRequest; response: OrderView };
  [Subjects.billingOrderRefund]: { request: OrderRefundRequest; response: OrderView };
  [Subjects.billingStripeWebhookHandle]: { request: StripeWebhookRequest; response: StripeWebhookResult };
  [Subjects.billingSubscriptionCreate]: { request: SubscriptionCreateRequest; response: SubscriptionView };
  [Subjects.billingSubscriptionGrant]: { request: SubscriptionCreateRequest; response: SubscriptionView };
  [Subjects.billingSubscriptionCancel]: { request: SubscriptionCancelRequest; response: SubscriptionView };
  [Subjects.billingSubscriptionList]: { request: SubscriptionListRequest; response: SubscriptionView[] };
  [Subjects.billingAccountAccessGet]: { request: AccountAccessRequest; response: AccountAccessView };
  [Subjects.billingSpendStateLoad]: { request: SpendStateLoadRequest; response: { loaded: true } };
}

export interface BillingEventContracts {
  [Subjects.billingPlanChanged]: PlanChangedEvent;
  [Subjects.billingAccountAccessChanged]: AccountAccessChangedEvent;
}
