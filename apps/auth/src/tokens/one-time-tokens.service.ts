import { Injectable, Logger, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { randomBytes, randomInt } from 'node:crypto';
import type { EntityManager } from 'typeorm';
import { KeyedHasher, sameDigest } from '../crypto/keyed-hasher';
import type { OneTimeTokenPurpose } from './one-time-token.entity';
import { OneTimeTokensRepository } from './one-time-tokens.repository';

export const VERIFY_EMAIL_TTL_MS = 24 * 3600_000;
export const RESET_PASSWORD_TTL_MS = 3600_000;
export const EMAIL_CODE_TTL_MS = 10 * 60_000;
/** Wrong guesses an emailed 6-digit code survives before it is burned. */
export const EMAIL_CODE_MAX_ATTEMPTS = 5;
const housekeepingIntervalMs = 3600_000;

/**
 * Single-use secrets sent by email: 256-bit link tokens (verification, reset) and 6-digit codes. Only
 * keyed hashes are stored; using one is atomic, so a token works exactly once.
 */
@Injectable()
export class OneTimeTokensService implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger(OneTimeTokensService.name);
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly tokens: OneTimeTokensRepository,
    private readonly hasher: KeyedHasher,
  ) {}

  onModuleInit(): void {
    this.timer = setInterval(() => {
      this.tokens
        .deleteStale()
        .catch((e: unknown) => this.logger.warn(`token housekeeping failed: ${String(e)}`));
    }, housekeepingIntervalMs);
    this.timer.unref();
  }

  onModuleDestroy(): void {
    clearInterval(this.timer);
  }

  /** A fresh link token for the account; returned once (for the email), stored only as a hash. */
  async issueLinkToken(accountId: string, purpose: 'verify_email' | 'reset_password'): Promise<string> {
    const token = randomBytes(32).toString('base64url');
    const ttl = purpose === 'verify_email' ? VERIFY_EMAIL_TTL_MS : RESET_PASSWORD_TTL_MS;
    await this.tokens.insert({
      accountId,
      purpose,
      tokenHash: this.hasher.token(token),
      expiresAt: new Date(Date.now() + ttl),
    });
    return token;
  }

  /** Uses a link token: its account id, or null when unknown, used or expired. */
  consumeLinkToken(
    purpose: 'verify_email' | 'reset_password',
    token: string,
    m?: EntityManager,
  ): Promise<string | null> {
    return this.tokens.consume(purpose, this.hasher.token(token), m);
  }

  revokeAll(accountId: string, purpose: OneTimeTokenPurpose, m?: EntityManager): Promise<void> {
    return this.tokens.revokeAll(accountId, purpose, m);
  }

  /** A new 6-digit code; earlier codes of the account stop working. */
  async issueEmailCode(accountId: string): Promise<string> {
    const code = randomInt(0, 1_000_000).toString().padStart(6, '0');
    await this.tokens.revokeAll(accountId, 'totp_email_code');
    await this.tokens.insert({
      accountId,
      purpose: 'totp_email_code',
      tokenHash: this.hasher.accountCode(accountId, code),
      expiresAt: new Date(Date.now() + EMAIL_CODE_TTL_MS),
    });
    return code;
  }

  /** Uses the account's current email code if `code` matches; wrong guesses are counted and capped. */
  async consumeEmailCode(accountId: string, code: string): Promise<boolean> {
    const live = await this.tokens.findNewestLive(accountId, 'totp_email_code');
    if (!live) return false;
    if (!sameDigest(this.hasher.accountCode(accountId, code), live.tokenHash)) {
      await this.tokens.recordFailedAttempt(live.id, EMAIL_CODE_MAX_ATTEMPTS);
      return false;
    }
    return this.tokens.consumeById(live.id);
  }
}
