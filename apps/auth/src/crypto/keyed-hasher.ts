import { Inject, Injectable } from '@nestjs/common';
import type { AuthConfig } from '@torouter/config';
import { APP_CONFIG } from '@torouter/service-runtime';
import { createHmac, timingSafeEqual } from 'node:crypto';
import { deriveKey } from './derived-keys';

/**
 * HMAC-SHA256 under keys derived from TOROUTER_SECRET: how emailed tokens, email codes and recovery
 * codes are stored. A leaked table alone cannot be brute-forced offline (short codes included), and
 * lookups stay exact-match on the digest.
 */
@Injectable()
export class KeyedHasher {
  private readonly tokenKey: Buffer;
  private readonly recoveryKey: Buffer;

  constructor(@Inject(APP_CONFIG) config: AuthConfig) {
    this.tokenKey = deriveKey(config.TOROUTER_SECRET, 'one-time-token');
    this.recoveryKey = deriveKey(config.TOROUTER_SECRET, 'recovery-code');
  }

  /** For high-entropy link tokens (globally unique). */
  token(value: string): string {
    return createHmac('sha256', this.tokenKey).update(`token:${value}`).digest('hex');
  }

  /** For short codes, bound to their account (two accounts may hold the same code). */
  accountCode(accountId: string, code: string): string {
    return createHmac('sha256', this.tokenKey).update(`code:${accountId}:${code}`).digest('hex');
  }

  recoveryCode(accountId: string, code: string): string {
    return createHmac('sha256', this.recoveryKey).update(`${accountId}:${code}`).digest('hex');
  }
}

/** Constant-time equality of two hex digests of the same length (different lengths are just unequal). */
export function sameDigest(a: string, b: string): boolean {
  const ba = Buffer.from(a, 'hex');
  const bb = Buffer.from(b, 'hex');
  return ba.length === bb.length && ba.length > 0 && timingSafeEqual(ba, bb);
}
