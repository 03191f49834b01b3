import { API_KEY_LENGTH, generateApiKey, hashApiKey, isWellFormedApiKey, maskApiKey } from './api-key-format';

describe('API key format', () => {
  it('mints distinct sk- keys of a fixed length that pass their own checksum', () => {
    const keys = new Set(Array.from({ length: 200 }, generateApiKey));
    expect(keys.size).toBe(200);
    for (const k of keys) {
      expect(k).toMatch(/^sk-[0-9A-Za-z]+$/);
      expect(k).toHaveLength(API_KEY_LENGTH);
      expect(isWellFormedApiKey(k)).toBe(true);
    }
  });

  it('catches a single mistyped character without any lookup', () => {
    const key = generateApiKey();
    const i = 10;
    const typo = key.slice(0, i) + (key[i] === 'a' ? 'b' : 'a') + key.slice(i + 1);
    expect(isWellFormedApiKey(typo)).toBe(false);
    expect(isWellFormedApiKey(key.slice(0, -1))).toBe(false);
    expect(isWellFormedApiKey('sk-' + 'x'.repeat(39))).toBe(false);
    expect(isWellFormedApiKey('')).toBe(false);
  });

  it('hashes to 64 hex chars and masks to first and last characters', () => {
    const key = generateApiKey();
    expect(hashApiKey(key)).toMatch(/^[0-9a-f]{64}$/);
    expect(hashApiKey(key)).toBe(hashApiKey(key));
    expect(maskApiKey(key)).toBe(`${key.slice(0, 7)}…${key.slice(-4)}`);
    expect(maskApiKey(key)).not.toContain(key.slice(7, -4));
  });
});
