import { Inject, Injectable } from '@nestjs/common';
import type { AuthConfig } from '@torouter/config';
import { DomainError, ErrorCodes } from '@torouter/contracts';
import { APP_CONFIG } from '@torouter/service-runtime';
import { Redis } from 'ioredis';
import { createHash } from 'node:crypto';

/**
 * INCR each key; the first increment of a window starts its expiry. Returns [count, pttl] per key. Time
 * is Redis's, and the counters are shared by every auth replica (one cluster-wide limit).
 */
const incrScript = `
local out = {}
for i, key in ipairs(KEYS) do
  local n = redis.call('INCR', key)
  local ttl = redis.call('PTTL', key)
  if ttl < 0 then
    redis.call('PEXPIRE', key, ARGV[1])
    ttl = tonumber(ARGV[1])
  end
  out[#out + 1] = n
  out[#out + 1] = ttl
end
return out`;

/** Gives back an attempt that turned out not to count (decrement, never below zero). */
const refundScript = `
for i, key in ipairs(KEYS) do
  local n = tonumber(redis.call('GET', key) or '0')
  if n > 0 then redis.call('DECR', key) end
end
return 0`;

/** What became of a credential attempt that passed the throttle. */
export interface CredentialAttempt {
  /** Right credentials: the account's failure count starts over. */
  succeeded(): Promise<void>;
  /** Wrong password or code: the attempt stays counted. */
  failed(): void;
  /** Not a guess (e.g. the password was right and a TOTP code is now asked for): give the attempt back. */
  refund(): Promise<void>;
}

function digest(s: string): string {
  return createHash('sha256').update(s).digest('hex').slice(0, 32);
}

/**
 * Throttling counters in Redis (keys under the namespace prefix): credential attempts per account and per
 * client IP (sign-in, and password/code checks on account routes), email sends per address and per IP,
 * sign-ups per IP. Fails closed: if Redis does not answer, the request is refused (503), never let through.
 */
@Injectable()
export class ThrottleService {
  constructor(
    private readonly redis: Redis,
    @Inject(APP_CONFIG) private readonly config: AuthConfig,
  ) {}

  /**
   * Counts one credential attempt against the account (id, or the normalised email when there is no such
   * account) and the IP, BEFORE the check runs, so parallel guesses cannot slip past the limit. Throws
   * `rate_limited` (with `retryAfterSeconds`) once either is over its limit.
   */
  async beginCredentialAttempt(subject: string, clientIp: string): Promise<CredentialAttempt> {
    const accountKey = `auth:fail:acct:${digest(subject)}`;
    const ipKey = `auth:fail:ip:${digest(clientIp)}`;
    const windowMs = this.config.AUTH_FAILURE_WINDOW_SECONDS * 1000;
    const [acctCount, acctTtl, ipCount, ipTtl] = await this.incr([accountKey, ipKey], windowMs);
    const overAccount = acctCount > this.config.AUTH_MAX_FAILURES_PER_ACCOUNT;
    const overIp = ipCount > this.config.AUTH_MAX_FAILURES_PER_IP;
    if (overAccount || overIp) {
      const ttl = Math.max(overAccount ? acctTtl : 0, overIp ? ipTtl : 0);
      throw rateLimited('too many failed attempts; try again later', ttl);
    }
    return {
      succeeded: async () => {
        await this.guard(async () => {
          await this.redis.del(accountKey);
          await this.redis.eval(refundScript, 1, ipKey);
        });
      },
      failed: () => undefined,
      refund: async () => {
        await this.guard(() => this.redis.eval(refundScript, 2, accountKey, ipKey));
      },
    };
  }

  /** Clears an account's failure count (after its password was reset by email). */
  async clearAccountFailures(accountId: string): Promise<void> {
    await this.guard(() => this.redis.del(`auth:fail:acct:${digest(accountId)}`));
  }

  /** Counts a request against a per-IP hourly budget; throws `rate_limited` when it is spent. */
  async perIpHourly(bucket: 'email' | 'signup', clientIp: string): Promise<void> {
    const limit =
      bucket === 'email'
        ? this.config.AUTH_EMAIL_REQUESTS_PER_IP_PER_HOUR
        : this.config.AUTH_SIGNUPS_PER_IP_PER_HOUR;
    const [count, ttl] = await this.incr([`auth:${bucket}:ip:${digest(clientIp)}`], 3600_000);
    if (count > limit) {
      throw rateLimited(
        bucket === 'email'
          ? 'too many email requests from this address; try again later'
          : 'too many sign-ups from this address; try again later',
        ttl,
      );
    }
  }

  /**
   * Starts the cooldown for this kind of email to this address and returns 0, or — when one went out
   * within the cooldown — returns the milliseconds left and starts nothing ("do not send now").
   */
  async claimEmailCooldown(kind: string, address: string): Promise<number> {
    const seconds = this.config.AUTH_EMAIL_COOLDOWN_SECONDS;
    if (seconds === 0) return 0;
    const key = `auth:email-cooldown:${kind}:${digest(address)}`;
    return this.guard(async () => {
      if ((await this.redis.set(key, '1', 'EX', seconds, 'NX')) === 'OK') return 0;
      return Math.max(1, await this.redis.pttl(key));
    });
  }

  /** The `rate_limited` error for a cooldown still running (`remainingMs` from `claimEmailCooldown`). */
  cooldownError(remainingMs: number): DomainError {
    return rateLimited('an email was sent moments ago; wait before asking for another', remainingMs);
  }

  private async incr(keys: string[], windowMs: number): Promise<number[]> {
    const out = await this.guard(() => this.redis.eval(incrScript, keys.length, ...keys, windowMs));
    return (out as Array<number | string>).map(Number);
  }

  private async guard<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (e) {
      if (e instanceof DomainError) throw e;
      throw new DomainError(
        ErrorCodes.SERVICE_UNAVAILABLE,
        'the rate-limit store (Redis) is unavailable; try again shortly',
      );
    }
  }
}

function rateLimited(message: string, ttlMs: number): DomainError {
  const retryAfterSeconds = Math.max(1, Math.ceil(ttlMs / 1000));
  return new DomainError(ErrorCodes.RATE_LIMITED, `${message} (retry after ${retryAfterSeconds} s)`, {
    retryAfterSeconds,
  });
}
