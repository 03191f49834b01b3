import { DomainError, ErrorCodes } from '@torouter/contracts';
import { windowSpecs, type WindowState } from './request-windows';

/** OpenAI's reset format: `17ms`, `45s`, `6m0s`, `1h2m3s`. */
export function formatResetDuration(ms: number): string {
  if (ms <= 0) return '0s';
  if (ms < 1000) return `${Math.ceil(ms)}ms`;
  let s = Math.ceil(ms / 1000);
  const h = Math.floor(s / 3600);
  s %= 3600;
  const m = Math.floor(s / 60);
  s %= 60;
  return `${h ? `${h}h` : ''}${h || m ? `${m}m` : ''}${s}s`;
}

/** The request window closest to refusing (least remaining; the shorter window on a tie). */
function tightestRequestWindow(windows: WindowState[]): WindowState | undefined {
  return windows
    .filter((w) => windowSpecs[w.name].unit === 'requests')
    .sort(
      (a, b) => a.remaining - b.remaining || windowSpecs[a.name].windowMs - windowSpecs[b.name].windowMs,
    )[0];
}

/**
 * `x-ratelimit-{limit,remaining,reset}-requests` for the tightest request window (5 h / 24 h / 7 d / RPM)
 * and `-tokens` for TPM, as OpenAI names them, so SDK users find them where they expect.
 */
export function rateLimitHeaders(windows: WindowState[]): Record<string, string> {
  const headers: Record<string, string> = {};
  const req = tightestRequestWindow(windows);
  if (req) {
    headers['x-ratelimit-limit-requests'] = String(req.limit);
    headers['x-ratelimit-remaining-requests'] = String(req.remaining);
    headers['x-ratelimit-reset-requests'] = formatResetDuration(req.resetMs);
  }
  const tok = windows.find((w) => w.name === 'tpm');
  if (tok) {
    headers['x-ratelimit-limit-tokens'] = String(tok.limit);
    headers['x-ratelimit-remaining-tokens'] = String(tok.remaining);
    headers['x-ratelimit-reset-tokens'] = formatResetDuration(tok.resetMs);
  }
  return headers;
}

/** A refusal that tells the client when to come back (Retry-After and the x-ratelimit-* headers). */
export class RateLimitExceededError extends DomainError {
  constructor(
    message: string,
    readonly responseHeaders: Record<string, string>,
    details?: Record<string, unknown>,
  ) {
    super(ErrorCodes.RATE_LIMIT_EXCEEDED, message, details);
    this.name = 'RateLimitExceededError';
  }
}
