import { Injectable, type OnModuleInit } from '@nestjs/common';
import argon2 from 'argon2';
import { randomBytes } from 'node:crypto';

/** argon2id with OWASP's recommended minimum (19 MiB, 2 iterations, 1 lane). */
const params = { type: argon2.argon2id, memoryCost: 19_456, timeCost: 2, parallelism: 1 } as const;

@Injectable()
export class PasswordHasher implements OnModuleInit {
  /** A hash of a random password nobody knows: verified against when the email is unknown. */
  private dummyHash?: string;

  async onModuleInit(): Promise<void> {
    this.dummyHash = await this.hash(randomBytes(16).toString('hex'));
  }

  hash(password: string): Promise<string> {
    return argon2.hash(password, params);
  }

  /** Never throws on a malformed stored hash: that is just "no match". */
  async verify(hash: string, password: string): Promise<boolean> {
    try {
      return await argon2.verify(hash, password);
    } catch {
      return false;
    }
  }

  /**
   * Spends the same argon2 work as a real check and returns false, so a sign-in for an unknown email
   * takes as long as one with a wrong password.
   */
  async verifyAgainstNothing(password: string): Promise<false> {
    this.dummyHash ??= await this.hash(randomBytes(16).toString('hex'));
    await this.verify(this.dummyHash, password);
    return false;
  }

  /** True when the stored hash is not argon2id with today's parameters (rehash after a successful sign-in). */
  needsRehash(hash: string): boolean {
    try {
      const { memoryCost, timeCost, parallelism } = params;
      return (
        !hash.startsWith('$argon2id$') || argon2.needsRehash(hash, { memoryCost, timeCost, parallelism })
      );
    } catch {
      return false;
    }
  }
}
