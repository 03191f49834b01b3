import { z } from 'zod';
import { Subjects } from './subjects';

const uuid = z.string().uuid();

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

export interface KeysRpcContracts {
  [Subjects.keysApiKeyCreate]: { request: ApiKeyCreateRequest; response: ApiKeyCreated };
  [Subjects.keysApiKeyLookup]: { request: ApiKeyLookupRequest; response: ApiKeyPolicy };
}

export interface KeysEventContracts {
  [Subjects.keysApiKeyChanged]: ApiKeyChangedEvent;
}
