import { Injectable } from '@nestjs/common';
import { hashApiKey, isWellFormedApiKey } from '@torouter/api-key-format';
import { DomainError, ErrorCodes, type ApiKeyPolicyFound, type RateLimits } from '@torouter/contracts';
import { extractApiKey, type CredentialSource } from './credentials';
import { compileIpRules, type CompiledIpRules } from './ip-rules';
import { KeyPolicyCache } from './key-policy.cache';

/** A key's limits in the form the admission steps use, built once per cached policy snapshot. */
export interface KeyLimits {
  /** Request windows and RPM/TPM are counted under this id (shared by a key and its rotations). */
  limitsId: string;
  rateLimits: RateLimits;
  ipRules: CompiledIpRules;
  /** Literal model ids; empty = no key restriction (the plan's catalog applies). */
  modelWhitelist: ReadonlySet<string>;
}

/** Who is calling, once the key and its account have passed every state check. */
export interface Caller {
  keyId: string;
  keyName: string;
  accountId: string;
  /** billing's plan id; null = the account's default plan. */
  planId: string | null;
  /** The key's spend cap in integer micro-USD; 0 = none (enforced by billing's spend step). */
  quotaMicroUsd: number;
  limits: KeyLimits;
  /** The snapshot this caller was built from (read-only). */
  policy: Readonly<ApiKeyPolicyFound>;
}

/**
 * The data plane's front door: credential → key state (unknown/deleted, disabled, expired) → account
 * state, in DECISIONS.md's order. The remaining checks (IP, model, subscription, windows, spend) are
 * admission steps (`apps/router/src/limits`, billing's).
 */
@Injectable()
export class AccessService {
  /** Compiled limits per cached snapshot object: a new snapshot (after a change event) compiles anew. */
  private readonly compiled = new WeakMap<ApiKeyPolicyFound, KeyLimits>();

  constructor(private readonly cache: KeyPolicyCache) {}

  async authenticate(src: CredentialSource, opts: { allowQueryKey: boolean }): Promise<Caller> {
    const key = extractApiKey(src, opts);
    // A key that fails its own checksum is refused without any lookup.
    if (!isWellFormedApiKey(key)) throw new DomainError(ErrorCodes.INVALID_API_KEY, 'invalid API key');
    const policy = await this.cache.policy(hashApiKey(key));
    const now = Date.now();
    // A rotated key past its grace period is deleted, whether or not the sweep has run yet.
    if (!policy.found || (policy.deleteAt !== null && Date.parse(policy.deleteAt) <= now))
      throw new DomainError(ErrorCodes.INVALID_API_KEY, 'invalid API key');
    if (policy.status === 'disabled')
      throw new DomainError(ErrorCodes.API_KEY_DISABLED, 'this API key is disabled by its owner');
    if (policy.expiresAt !== null && Date.parse(policy.expiresAt) <= now) {
      throw new DomainError(ErrorCodes.API_KEY_EXPIRED, `this API key expired at ${policy.expiresAt}`);
    }
    const account = await this.cache.account(policy.accountId);
    if (!account.exists)
      throw new DomainError(ErrorCodes.USER_NOT_FOUND, "this API key's account no longer exists");
    if (!account.active) {
      throw new DomainError(
        ErrorCodes.USER_INACTIVE,
        account.suspended
          ? "this API key's account is suspended"
          : "this API key's account has not verified its email",
      );
    }
    return {
      keyId: policy.id,
      keyName: policy.name,
      accountId: policy.accountId,
      planId: policy.planId,
      quotaMicroUsd: policy.quotaMicroUsd,
      limits: this.limitsOf(policy),
      policy,
    };
  }

  private limitsOf(policy: ApiKeyPolicyFound): KeyLimits {
    let limits = this.compiled.get(policy);
    if (!limits) {
      limits = {
        limitsId: policy.limitsId,
        rateLimits: policy.rateLimits,
        ipRules: compileIpRules(policy.ipWhitelist, policy.ipBlacklist),
        modelWhitelist: new Set(policy.modelWhitelist),
      };
      this.compiled.set(policy, limits);
    }
    return limits;
  }
}
