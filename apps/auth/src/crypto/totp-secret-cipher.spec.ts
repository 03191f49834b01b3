import { authEnvSchema, loadConfig } from '@torouter/config';
import { KeyedHasher, sameDigest } from './keyed-hasher';
import { TotpSecretCipher } from './totp-secret-cipher';

const config = (secret: string) =>
  loadConfig(authEnvSchema, { TOROUTER_SECRET: secret, TOROUTER_ADMIN_TOKEN: 'a'.repeat(24) });

describe('secrets at rest', () => {
  const cipher = new TotpSecretCipher(config('s'.repeat(32)));
  const account = '7f1d8b9c-0000-4000-8000-000000000001';

  it('encrypts TOTP secrets with AES-256-GCM, a fresh IV each time, bound to the account', () => {
    const a = cipher.encrypt('JBSWY3DPEHPK3PXP', account);
    const b = cipher.encrypt('JBSWY3DPEHPK3PXP', account);
    expect(a).not.toBe(b);
    expect(a).not.toContain('JBSWY3DPEHPK3PXP');
    expect(cipher.decrypt(a, account)).toBe('JBSWY3DPEHPK3PXP');
    expect(() => cipher.decrypt(a, '7f1d8b9c-0000-4000-8000-000000000002')).toThrow();
  });

  it('refuses a tampered ciphertext and a different master secret', () => {
    const enc = cipher.encrypt('JBSWY3DPEHPK3PXP', account);
    const parts = enc.split('.');
    const ct = Buffer.from(parts[3], 'base64url');
    ct[0] = ct[0] ^ 1;
    parts[3] = ct.toString('base64url');
    expect(() => cipher.decrypt(parts.join('.'), account)).toThrow();
    expect(() => new TotpSecretCipher(config('t'.repeat(32))).decrypt(enc, account)).toThrow();
  });

  it('hashes tokens and codes with keys derived from the master secret', () => {
    const h1 = new KeyedHasher(config('s'.repeat(32)));
    const h2 = new KeyedHasher(config('t'.repeat(32)));
    expect(h1.token('abc')).toMatch(/^[0-9a-f]{64}$/);
    expect(h1.token('abc')).not.toBe(h2.token('abc'));
    expect(h1.accountCode(account, '123456')).not.toBe(h1.accountCode('other', '123456'));
    expect(h1.recoveryCode(account, 'abcdefghjk')).not.toBe(h1.token('abcdefghjk'));
    expect(sameDigest(h1.token('abc'), h1.token('abc'))).toBe(true);
    expect(sameDigest(h1.token('abc'), h1.token('abd'))).toBe(false);
    expect(sameDigest(h1.token('abc'), 'abcd')).toBe(false);
  });
});
