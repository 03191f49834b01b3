import { DomainError } from '@torouter/contracts';
import { extractApiKey } from './credentials';

function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    return (e as DomainError).code;
  }
  return 'no error';
}

describe('extractApiKey', () => {
  const none = { headers: {}, query: {} };

  it('accepts each header form on every surface', () => {
    expect(
      extractApiKey({ headers: { authorization: 'Bearer sk-1' }, query: {} }, { allowQueryKey: false }),
    ).toBe('sk-1');
    expect(
      extractApiKey({ headers: { authorization: 'bearer  sk-1' }, query: {} }, { allowQueryKey: false }),
    ).toBe('sk-1');
    expect(extractApiKey({ headers: { 'x-api-key': 'sk-2' }, query: {} }, { allowQueryKey: false })).toBe(
      'sk-2',
    );
    expect(
      extractApiKey({ headers: { 'x-goog-api-key': 'sk-3' }, query: {} }, { allowQueryKey: false }),
    ).toBe('sk-3');
  });

  it('accepts ?key= only where allowed (Gemini routes)', () => {
    expect(extractApiKey({ headers: {}, query: { key: 'sk-4' } }, { allowQueryKey: true })).toBe('sk-4');
    expect(
      codeOf(() => extractApiKey({ headers: {}, query: { key: 'sk-4' } }, { allowQueryKey: false })),
    ).toBe('api_key_in_query_deprecated');
  });

  it('refuses ?api_key= everywhere, even with a header key', () => {
    const src = { headers: { authorization: 'Bearer sk-1' }, query: { api_key: 'sk-5' } };
    expect(codeOf(() => extractApiKey(src, { allowQueryKey: true }))).toBe('api_key_in_query_deprecated');
  });

  it('answers API_KEY_REQUIRED when nothing usable is sent', () => {
    expect(codeOf(() => extractApiKey(none, { allowQueryKey: true }))).toBe('API_KEY_REQUIRED');
    expect(
      codeOf(() =>
        extractApiKey({ headers: { authorization: 'Basic abc' }, query: {} }, { allowQueryKey: false }),
      ),
    ).toBe('API_KEY_REQUIRED');
    expect(
      codeOf(() => extractApiKey({ headers: { 'x-api-key': '  ' }, query: {} }, { allowQueryKey: false })),
    ).toBe('API_KEY_REQUIRED');
  });
});
