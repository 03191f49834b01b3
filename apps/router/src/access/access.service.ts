import { Injectable } from '@nestjs/common';
import { hashApiKey, isWellFormedApiKey } from '@torouter/api-key-format';
import { DomainError, ErrorCodes } from '@torouter/contracts';
import { extractApiKey, type CredentialSource } from './credentials';
import { KeyPolicyCache } from './key-policy.cache';

/** Who is calling, once the key and its account have passed every state check. */
export interface Caller {
  keyId: string;
  keyName: string;
  accountId: string;
}

/**
 * The data plane's front door: credential → key state (unknown/deleted, disabled, expired) → account
 * state, in DECISIONS.md's order. The remaining checks (IP, model, windows, spend) follow in the relay.
 */
@Injectable()
export class AccessService {
  constructor(private readonly cache: KeyPolicyCache) {}

  async authenticate(src: CredentialSource, opts: { allowQueryKey: boolean }): Promise<Caller> {
    const key = extractApiKey(src, opts);
    // A key that fails its own checksum is refused without any lookup.
    if (!isWellFormedApiKey(key)) throw new DomainError(ErrorCodes.INVALID_API_KEY, 'invalid API key');
    const policy = await this.cache.policy(hashApiKey(key));
    if (!policy.found) throw new DomainError(ErrorCodes.INVALID_API_KEY, 'invalid API key');
    if (policy.status === 'disabled')
      throw new DomainError(ErrorCodes.API_KEY_DISABLED, 'this API key is disabled by its owner');
    if (policy.expiresAt !== null && Date.parse(policy.expiresAt) <= Date.now()) {
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
    return { keyId: policy.id, keyName: policy.name, accountId: policy.accountId };
  }
}
