/**
 * Upstream answers that say "try another channel": rate limits, refused or exhausted credentials and
 * server-side failures. 400, 404, 413, 422 and content-policy refusals are about the request itself and
 * go straight back to the client.
 */
export function isRetryableStatus(status: number): boolean {
  return (
    status === 401 || status === 402 || status === 403 || status === 408 || status === 429 || status >= 500
  );
}

/** Retry-After as milliseconds (seconds or an HTTP date), if the upstream sent one. */
export function retryAfterMs(header: string | string[] | undefined): number | undefined {
  const value = Array.isArray(header) ? header[0] : header;
  if (!value) return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}
