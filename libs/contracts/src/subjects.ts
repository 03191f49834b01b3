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

  keysApiKeyCreate: 'keys.api-key.create.v1',
  keysApiKeyLookup: 'keys.api-key.lookup.v1',
  keysApiKeyChanged: 'keys.api-key.changed.v1',

  billingPlanGet: 'billing.plan.get.v1',
  billingAccountDefaultPlanGet: 'billing.account.default-plan.get.v1',
  billingBalanceGet: 'billing.balance.get.v1',

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
