/**
 * Every NATS subject the services use, owner service first. Request/reply subjects are verbs
 * (`keys.api-key.lookup.v1`); events are past tense (`keys.api-key.changed.v1`).
 *
 * Subjects are prefixed at runtime with TOROUTER_NAMESPACE (see `namespaced()`), so two stacks can share
 * one NATS server. Persistent names: never rename a shipped subject, add a new version instead.
 */
export const Subjects = {
  authHealthCheck: 'auth.health.check.v1',
  keysHealthCheck: 'keys.health.check.v1',
  billingHealthCheck: 'billing.health.check.v1',
  usageHealthCheck: 'usage.health.check.v1',

  authAccountCreate: 'auth.account.create.v1',
  authAccountFindByEmail: 'auth.account.find-by-email.v1',
  authAccountStatusGet: 'auth.account.status.get.v1',
  authAccountChanged: 'auth.account.changed.v1',
  authAccountSignUp: 'auth.account.sign-up.v1',
  authEmailVerificationConfirm: 'auth.email-verification.confirm.v1',
  authEmailVerificationResend: 'auth.email-verification.resend.v1',
  authSessionCreate: 'auth.session.create.v1',
  authPasswordResetRequest: 'auth.password-reset.request.v1',
  authPasswordResetConfirm: 'auth.password-reset.confirm.v1',
  authPasswordChange: 'auth.password.change.v1',
  authProfileGet: 'auth.profile.get.v1',
  authProfileUpdate: 'auth.profile.update.v1',
  authTotpEmailCodeSend: 'auth.totp.email-code.send.v1',
  authTotpSetup: 'auth.totp.setup.v1',
  authTotpEnable: 'auth.totp.enable.v1',
  authTotpDisable: 'auth.totp.disable.v1',
  authAccountList: 'auth.account.list.v1',
  authAccountGet: 'auth.account.get.v1',
  authAccountUpdate: 'auth.account.update.v1',

  keysApiKeyCreate: 'keys.api-key.create.v1',
  keysApiKeyLookup: 'keys.api-key.lookup.v1',
  keysApiKeyList: 'keys.api-key.list.v1',
  keysApiKeyGet: 'keys.api-key.get.v1',
  keysApiKeyUpdate: 'keys.api-key.update.v1',
  keysApiKeyDelete: 'keys.api-key.delete.v1',
  keysApiKeyRotate: 'keys.api-key.rotate.v1',
  /** billing → keys: add a settled request's cost to the key's spend (idempotent by requestId). */
  keysApiKeySpendAdd: 'keys.api-key.spend.add.v1',
  /** router → keys: batched last-used time and IP per key (flushed every few seconds). */
  keysApiKeyLastUsedRecord: 'keys.api-key.last-used.record.v1',
  keysApiKeyChanged: 'keys.api-key.changed.v1',

  billingPlanGet: 'billing.plan.get.v1',
  billingAccountDefaultPlanGet: 'billing.account.default-plan.get.v1',
  billingBalanceGet: 'billing.balance.get.v1',
  billingPlanCreate: 'billing.plan.create.v1',
  billingPlanList: 'billing.plan.list.v1',
  billingPlanUpdate: 'billing.plan.update.v1',
  billingLedgerList: 'billing.ledger.list.v1',
  billingCreditCreate: 'billing.credit.create.v1',
  billingTopupCreate: 'billing.topup.create.v1',
  billingOrderList: 'billing.order.list.v1',
  billingOrderGet: 'billing.order.get.v1',
  billingOrderCancel: 'billing.order.cancel.v1',
  billingOrderRefund: 'billing.order.refund.v1',
  billingStripeWebhookHandle: 'billing.stripe-webhook.handle.v1',
  billingSubscriptionCreate: 'billing.subscription.create.v1',
  billingSubscriptionGrant: 'billing.subscription.grant.v1',
  billingSubscriptionCancel: 'billing.subscription.cancel.v1',
  billingSubscriptionList: 'billing.subscription.list.v1',
  billingAccountAccessGet: 'billing.account-access.get.v1',
  billingSpendStateLoad: 'billing.spend-state.load.v1',
  /** Broadcast: a plan changed; every router replica drops its cached copy. */
  billingPlanChanged: 'billing.plan.changed.v1',
  /** Broadcast: an account's subscriptions or default plan changed. */
  billingAccountAccessChanged: 'billing.account-access.changed.v1',

  usageLogsList: 'usage.logs.list.v1',
  usageSummaryGet: 'usage.summary.get.v1',
  usageDashboardGet: 'usage.dashboard.get.v1',
  /** Streams the CSV as flow-controlled frames to the caller's inbox (see usage.contract.ts). */
  usageExportStart: 'usage.export.start.v1',
  usageChannelStatsGet: 'usage.channel-stats.get.v1',

  /** Durable (JetStream): one per admitted request, message id = request id. Consumed by billing and usage. */
  routerRequestCompleted: 'router.request.completed.v1',
  /** Broadcast: channels or catalog changed; every router replica reloads its in-memory copy. */
  routerCatalogChanged: 'router.catalog.changed.v1',
} as const;

export type Subject = (typeof Subjects)[keyof typeof Subjects];

/** The four internal services, in the order `/health` reports them. */
export const InternalServices = ['auth', 'keys', 'billing', 'usage'] as const;
export type InternalService = (typeof InternalServices)[number];

export const HealthSubjects = {
  auth: Subjects.authHealthCheck,
  keys: Subjects.keysHealthCheck,
  billing: Subjects.billingHealthCheck,
  usage: Subjects.usageHealthCheck,
} as const satisfies Record<InternalService, Subject>;

/** Applies the deployment namespace to a subject, stream or queue name. */
export function namespaced(namespace: string, name: string): string {
  return `${namespace}.${name}`;
}
