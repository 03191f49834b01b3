import { DomainError, ErrorCodes } from '@torouter/contracts';

export interface CredentialSource {
  headers: Record<string, string | string[] | undefined>;
  query: Record<string, unknown>;
}

function header(h: CredentialSource['headers'], name: string): string | undefined {
  const v = h[name];
  const s = Array.isArray(v) ? v[0] : v;
  return s === undefined || s.trim() === '' ? undefined : s.trim();
}

/**
 * Reads the API key as DECISIONS.md says: `Authorization: Bearer`, `x-api-key` or `x-goog-api-key` on every
 * surface; `?key=` on Gemini routes only; `?api_key=` anywhere, or `?key=` elsewhere → 400
 * `api_key_in_query_deprecated` (keys in URLs end up in proxy and access logs).
 */
export function extractApiKey(src: CredentialSource, opts: { allowQueryKey: boolean }): string {
  if (src.query.api_key !== undefined || (!opts.allowQueryKey && src.query.key !== undefined)) {
    throw new DomainError(
      ErrorCodes.API_KEY_IN_QUERY_DEPRECATED,
      'API keys in the query string are not accepted here; send it in the Authorization: Bearer, x-api-key or x-goog-api-key header',
    );
  }
  const authorization = header(src.headers, 'authorization');
  if (authorization) {
    const m = /^Bearer\s+(\S+)$/i.exec(authorization);
    if (m) return m[1];
  }
  const fromHeader = header(src.headers, 'x-api-key') ?? header(src.headers, 'x-goog-api-key');
  if (fromHeader) return fromHeader;
  if (opts.allowQueryKey && typeof src.query.key === 'string' && src.query.key.trim() !== '')
    return src.query.key.trim();
  throw new DomainError(
    ErrorCodes.API_KEY_REQUIRED,
    'an API key is required: send it as Authorization: Bearer sk-…, x-api-key or x-goog-api-key',
  );
}
