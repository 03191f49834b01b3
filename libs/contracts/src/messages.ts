import { z } from 'zod';
import { Subjects } from './subjects';

/**
 * Payload schemas for every request/reply subject and event. Receivers validate with these at the
 * boundary; senders get the inferred types. `RpcContracts` ties each subject to its request schema and
 * response type so a typo in either is a compile error.
 */

const uuid = z.string().uuid();

// ---- health ----------------------------------------------------------------------------------------
export const HealthCheckRequest = z.object({}).passthrough();
export interface DependencyStatus {
  name: 'postgres' | 'redis' | 'nats';
  up: boolean;
  error?: string;
}
export interface HealthCheckResponse {
  service: string;
  status: 'ok' | 'degraded';
  dependencies: DependencyStatus[];
}

// ---- auth ------------------------------------------------------------------------------------------
export const AccountRole = z.enum(['user', 'admin']);
export type AccountRole = z.infer<typeof AccountRole>;

export const AccountCreateRequest = z.object({
  email: z.string().email().max(320),
  password: z.string().min(1).max(1024),
  username: z.string().min(1).max(64).optional(),
  role: AccountRole.default('user'),
  /** Only trusted callers (seed, admin) may create an already verified account. */
  emailVerified: z.boolean().default(false),
});
export type AccountCreateRequest = z.input<typeof AccountCreateRequest>;

export interface AccountView {
  id: string;
  email: string;
  username: string | null;
  role: AccountRole;
  emailVerified: boolean;
  suspended: boolean;
  createdAt: string;
}

export const AccountFindByEmailRequest = z.object({ email: z.string().min(1).max(320) });
export type AccountFindByEmailRequest = z.infer<typeof AccountFindByEmailRequest>;

export const AccountStatusRequest = z.object({ accountId: uuid });
export type AccountStatusRequest = z.infer<typeof AccountStatusRequest>;
/** What the data plane needs to know about an account to admit a request. */
export interface AccountStatus {
  accountId: string;
  exists: boolean;
  active: boolean;
  emailVerified: boolean;
  suspended: boolean;
}

export const AccountChangedEvent = z.object({ accountId: uuid });
export type AccountChangedEvent = z.infer<typeof AccountChangedEvent>;

// ---- keys ------------------------------------------------------------------------------------------
export const ApiKeyCreateRequest = z.object({
  accountId: uuid,
  name: z.string().trim().min(1).max(100),
});
export type ApiKeyCreateRequest = z.infer<typeof ApiKeyCreateRequest>;

export interface ApiKeyCreated {
  id: string;
  /** The full secret: returned once, never stored. */
  key: string;
  maskedKey: string;
  name: string;
  createdAt: string;
}

export const ApiKeyLookupRequest = z.object({
  /** SHA-256 of the full key, hex. The router never sends the secret itself. */
  keyHash: z.string().regex(/^[0-9a-f]{64}$/),
});
export type ApiKeyLookupRequest = z.infer<typeof ApiKeyLookupRequest>;

export type ApiKeyStatus = 'active' | 'disabled';

/** The policy snapshot the router caches per key. `found: false` is cached too (negative caching). */
export type ApiKeyPolicy =
  | { found: false }
  | {
      found: true;
      id: string;
      accountId: string;
      name: string;
      status: ApiKeyStatus;
      expiresAt: string | null;
    };

export const ApiKeyChangedEvent = z.object({
  keyId: uuid,
  keyHash: z.string().regex(/^[0-9a-f]{64}$/),
  change: z.enum(['created', 'updated', 'deleted']),
});
export type ApiKeyChangedEvent = z.infer<typeof ApiKeyChangedEvent>;

// ---- the subject → contract map -------------------------------------------------------------------
export interface RpcContracts {
  [Subjects.authHealthCheck]: { request: z.input<typeof HealthCheckRequest>; response: HealthCheckResponse };
  [Subjects.keysHealthCheck]: { request: z.input<typeof HealthCheckRequest>; response: HealthCheckResponse };
  [Subjects.billingHealthCheck]: {
    request: z.input<typeof HealthCheckRequest>;
    response: HealthCheckResponse;
  };
  [Subjects.usageHealthCheck]: { request: z.input<typeof HealthCheckRequest>; response: HealthCheckResponse };
  [Subjects.authAccountCreate]: { request: AccountCreateRequest; response: AccountView };
  [Subjects.authAccountFindByEmail]: { request: AccountFindByEmailRequest; response: AccountView | null };
  [Subjects.authAccountStatusGet]: { request: AccountStatusRequest; response: AccountStatus };
  [Subjects.keysApiKeyCreate]: { request: ApiKeyCreateRequest; response: ApiKeyCreated };
  [Subjects.keysApiKeyLookup]: { request: ApiKeyLookupRequest; response: ApiKeyPolicy };
}
export type RpcSubject = keyof RpcContracts;

export interface EventContracts {
  [Subjects.authAccountChanged]: AccountChangedEvent;
  [Subjects.keysApiKeyChanged]: ApiKeyChangedEvent;
}
export type EventSubject = keyof EventContracts;
