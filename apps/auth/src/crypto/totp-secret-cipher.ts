import { Inject, Injectable } from '@nestjs/common';
import type { AuthConfig } from '@torouter/config';
import { APP_CONFIG } from '@torouter/service-runtime';
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { deriveKey } from './derived-keys';

const VERSION = 'v1';

/**
 * Encrypts TOTP secrets at rest with AES-256-GCM under a key derived from TOROUTER_SECRET (purpose
 * "totp-secret"). The account id is authenticated data, so a ciphertext copied onto another account's
 * row does not decrypt. Stored as `v1.<iv>.<tag>.<ciphertext>` (base64url).
 */
@Injectable()
export class TotpSecretCipher {
  private readonly key: Buffer;

  constructor(@Inject(APP_CONFIG) config: AuthConfig) {
    this.key = deriveKey(config.TOROUTER_SECRET, 'totp-secret');
  }

  encrypt(secret: string, accountId: string): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    cipher.setAAD(Buffer.from(accountId));
    const ct = Buffer.concat([cipher.update(secret, 'utf8'), cipher.final()]);
    return [VERSION, iv, cipher.getAuthTag(), ct]
      .map((p) => (typeof p === 'string' ? p : p.toString('base64url')))
      .join('.');
  }

  /** Throws if the value was tampered with, belongs to another account, or TOROUTER_SECRET changed. */
  decrypt(stored: string, accountId: string): string {
    const [version, iv, tag, ct] = stored.split('.');
    if (version !== VERSION || !iv || !tag || ct === undefined) throw new Error('unknown TOTP secret format');
    const decipher = createDecipheriv('aes-256-gcm', this.key, Buffer.from(iv, 'base64url'));
    decipher.setAAD(Buffer.from(accountId));
    decipher.setAuthTag(Buffer.from(tag, 'base64url'));
    return Buffer.concat([decipher.update(Buffer.from(ct, 'base64url')), decipher.final()]).toString('utf8');
  }
}
