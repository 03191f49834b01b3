import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';

const VERSION = 'v1';
const IV_BYTES = 12;
const TAG_BYTES = 16;

/**
 * Encrypts channel credentials at rest with AES-256-GCM. The key is derived from TOROUTER_SECRET with
 * HKDF-SHA256 (info "channel-credentials"), so the master secret itself never encrypts anything and a
 * leaked database holds only ciphertext. Stored as `v1:<iv>:<tag>:<ciphertext>` (base64url).
 */
export class CredentialsCipher {
  private readonly key: Buffer;

  constructor(secret: string) {
    this.key = Buffer.from(hkdfSync('sha256', secret, Buffer.alloc(0), 'channel-credentials', 32));
  }

  encrypt(value: unknown): string {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv, { authTagLength: TAG_BYTES });
    const data = Buffer.concat([cipher.update(JSON.stringify(value), 'utf8'), cipher.final()]);
    return [VERSION, iv, cipher.getAuthTag(), data]
      .map((p) => (typeof p === 'string' ? p : p.toString('base64url')))
      .join(':');
  }

  /** Throws when the text was not produced with this secret (or was tampered with). */
  decrypt(text: string): unknown {
    const [version, iv, tag, data] = text.split(':');
    if (version !== VERSION || !iv || !tag || data === undefined) throw new Error('unreadable credentials');
    const decipher = createDecipheriv('aes-256-gcm', this.key, Buffer.from(iv, 'base64url'), {
      authTagLength: TAG_BYTES,
    });
    decipher.setAuthTag(Buffer.from(tag, 'base64url'));
    const plain = Buffer.concat([decipher.update(Buffer.from(data, 'base64url')), decipher.final()]);
    return JSON.parse(plain.toString('utf8')) as unknown;
  }
}
