import { CredentialsCipher } from './credentials.cipher';

describe('CredentialsCipher (AES-256-GCM, key from HKDF)', () => {
  const secret = 'a'.repeat(64);

  it('round-trips and never shows the plaintext', () => {
    const cipher = new CredentialsCipher(secret);
    const text = cipher.encrypt({ apiKey: 'sk-secret-value' });
    expect(text).toMatch(/^v1:[\w-]{16}:[\w-]{22}:[\w-]+$/);
    expect(text).not.toContain('sk-secret');
    expect(cipher.decrypt(text)).toEqual({ apiKey: 'sk-secret-value' });
    expect(cipher.encrypt({ apiKey: 'sk-secret-value' })).not.toBe(text); // fresh IV every time
  });

  it('refuses another secret and tampered ciphertext', () => {
    const text = new CredentialsCipher(secret).encrypt({ apiKey: 'k' });
    expect(() => new CredentialsCipher('b'.repeat(64)).decrypt(text)).toThrow();
    const [v, iv, tag, data] = text.split(':');
    const flipped = Buffer.from(data, 'base64url');
    flipped[0] ^= 1;
    expect(() =>
      new CredentialsCipher(secret).decrypt([v, iv, tag, flipped.toString('base64url')].join(':')),
    ).toThrow();
  });
});
