import { hkdfSync } from 'node:crypto';

/**
 * Purpose-specific 256-bit keys derived from TOROUTER_SECRET with HKDF-SHA256 (same scheme as
 * `@torouter/session-token`), so the master secret itself never keys anything and each use is separate.
 */
export type KeyPurpose = 'totp-secret' | 'one-time-token' | 'recovery-code';

export function deriveKey(masterSecret: string, purpose: KeyPurpose): Buffer {
  return Buffer.from(hkdfSync('sha256', masterSecret, 'torouter', purpose, 32));
}
