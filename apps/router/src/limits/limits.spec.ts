import { modelAllowedByWhitelist } from './model-whitelist.step';
import { formatResetDuration, rateLimitHeaders } from './rate-limit-headers';
import { tpmReservation } from './windows-quota';

describe('modelAllowedByWhitelist', () => {
  const wl = new Set(['gpt-5', 'anthropic/claude-opus-4-7', 'gemini-2.5-pro-thinking']);

  it('allows everything with an empty whitelist', () => {
    expect(modelAllowedByWhitelist(new Set(), 'anything')).toBe(true);
  });

  it('matches literally and case-sensitively; vendor prefixes are distinct', () => {
    expect(modelAllowedByWhitelist(wl, 'gpt-5')).toBe(true);
    expect(modelAllowedByWhitelist(wl, 'GPT-5')).toBe(false);
    expect(modelAllowedByWhitelist(wl, 'gpt-5-mini')).toBe(false);
    expect(modelAllowedByWhitelist(wl, 'openai/gpt-5')).toBe(false);
    expect(modelAllowedByWhitelist(wl, 'anthropic/claude-opus-4-7')).toBe(true);
    expect(modelAllowedByWhitelist(wl, 'claude-opus-4-7')).toBe(false);
  });

  it('strips -thinking before matching', () => {
    expect(modelAllowedByWhitelist(wl, 'gpt-5-thinking')).toBe(true);
    expect(modelAllowedByWhitelist(wl, 'anthropic/claude-opus-4-7-thinking')).toBe(true);
    expect(modelAllowedByWhitelist(wl, 'gemini-2.5-pro-thinking')).toBe(true);
    expect(modelAllowedByWhitelist(wl, 'gemini-2.5-pro')).toBe(false);
  });
});

describe('tpmReservation', () => {
  it('reserves input + max output, capped at the limit', () => {
    expect(tpmReservation(100, 200, 10_000)).toBe(300);
    expect(tpmReservation(100, 128_000, 10_000)).toBe(10_000);
  });

  it('reserves the input alone when it exceeds the limit (never fits)', () => {
    expect(tpmReservation(12_000, 10, 10_000)).toBe(12_000);
  });
});

describe('rate-limit headers', () => {
  it('formats resets like OpenAI', () => {
    expect(formatResetDuration(0)).toBe('0s');
    expect(formatResetDuration(17)).toBe('17ms');
    expect(formatResetDuration(45_000)).toBe('45s');
    expect(formatResetDuration(360_000)).toBe('6m0s');
    expect(formatResetDuration(3_723_000)).toBe('1h2m3s');
  });

  it('describes the tightest request window and TPM', () => {
    const w = (name: 'per1d' | 'rpm' | 'tpm', limit: number, used: number) => ({
      name,
      limit,
      used,
      remaining: limit - used,
      resetMs: 30_000,
      field: 'x',
    });
    expect(rateLimitHeaders([w('per1d', 100, 10), w('rpm', 10, 5), w('tpm', 1000, 400)])).toEqual({
      'x-ratelimit-limit-requests': '10',
      'x-ratelimit-remaining-requests': '5',
      'x-ratelimit-reset-requests': '30s',
      'x-ratelimit-limit-tokens': '1000',
      'x-ratelimit-remaining-tokens': '600',
      'x-ratelimit-reset-tokens': '30s',
    });
  });
});
