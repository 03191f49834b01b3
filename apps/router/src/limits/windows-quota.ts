import { DomainError, type RateLimits } from '@torouter/contracts';
import type { AdmissionContext, AdmissionOutcome } from '../admission/admission.types';
import { RateLimitExceededError, formatResetDuration, rateLimitHeaders } from './rate-limit-headers';
import {
  RequestWindows,
  windowCheckArgs,
  windowSpecs,
  type WindowChange,
  type WindowState,
} from './request-windows';

/**
 * The key's sliding windows (5 h / 24 h / 7 d requests) and RPM/TPM as one part of the request's quota
 * claim: what to check, how a refusal reads, what stays counted when the request ends. The quota step
 * checks and counts them in the same atomic Redis script as the spend reservation (one round trip).
 */

/**
 * What TPM reserves at admission: the input estimate plus the most the answer may produce (max_tokens, or
 * the model's output limit) — OpenAI's rule — but never more than the TPM limit itself, so a request that
 * omits max_tokens on a large-output model is not refused forever. An input estimate alone above the
 * limit can never fit: it is refused without a Retry-After.
 */
export function tpmReservation(estimatedInputTokens: number, maxOutputTokens: number, tpm: number): number {
  const input = Math.max(0, Math.ceil(estimatedInputTokens));
  if (input > tpm) return input;
  return Math.min(input + Math.max(0, Math.ceil(maxOutputTokens)), tpm);
}

/** A request's claim on its key's windows. */
export interface WindowsClaim {
  /** The Redis hash of the key's windows (rotated keys share their predecessor's). */
  redisKey: string;
  rateLimits: RateLimits;
  /** Tokens reserved for TPM (0 without TPM). */
  tokens: number;
  /** `windows_check`'s arguments. */
  args: Array<string | number>;
}

/** The claim of a request on its key's windows; undefined when the key has none. */
export function windowsClaimOf(ctx: AdmissionContext): WindowsClaim | undefined {
  const { limitsId, rateLimits } = ctx.caller.limits;
  const tokens =
    rateLimits.tpm > 0 ? tpmReservation(ctx.estimatedInputTokens, ctx.maxOutputTokens, rateLimits.tpm) : 0;
  const args = windowCheckArgs(rateLimits, tokens);
  if (args.length === 0) return undefined;
  return { redisKey: RequestWindows.redisKey(limitsId), rateLimits, tokens, args };
}

/** What an admitted request counted, per window, so its end can correct or give it back. */
export function countedWindows(claim: WindowsClaim, windows: WindowState[]): WindowChange[] {
  return windows.map((w) => ({
    window: w.name,
    field: w.field,
    delta: windowSpecs[w.name].unit === 'tokens' ? claim.tokens : 1,
  }));
}

/**
 * The corrections when a request ends: a refused request gives everything back; otherwise requests stay
 * counted and TPM moves from the reservation to the tokens actually used (kept when usage is unknown).
 */
export function windowsSettlement(counted: WindowChange[], outcome: AdmissionOutcome): WindowChange[] {
  if (outcome.kind === 'refused') return counted.map((c) => ({ ...c, delta: -c.delta }));
  const actual = outcome.inputTokens + outcome.outputTokens;
  if (outcome.kind === 'completed' && actual === 0) return [];
  return counted.filter((c) => c.window === 'tpm').map((c) => ({ ...c, delta: actual - c.delta }));
}

function describe(w: WindowState): string {
  return `${w.used}/${w.limit} ${windowSpecs[w.name].label}`;
}

/** 429 RATE_LIMIT_EXCEEDED naming the full windows, with x-ratelimit-* and Retry-After. */
export function windowsRefusal(claim: WindowsClaim, windows: WindowState[], waitMs: number): DomainError {
  const { rateLimits: limits, tokens } = claim;
  const full = windows.filter((w) => w.used + (w.name === 'tpm' ? tokens : 1) > w.limit);
  const headers = rateLimitHeaders(windows.map((w) => (full.includes(w) ? { ...w, remaining: 0 } : w)));
  if (waitMs < 0) {
    return new RateLimitExceededError(
      `this request needs about ${tokens} tokens, more than this API key's limit of ${limits.tpm} tokens per minute (TPM); shorten it`,
      headers,
      { window: 'tpm', limit: limits.tpm, requestedTokens: tokens },
    );
  }
  const retryAfterSeconds = Math.max(1, Math.ceil(waitMs / 1000));
  return new RateLimitExceededError(
    `rate limit reached for this API key: ${full.map(describe).join(', ')}; try again in ${formatResetDuration(waitMs)}`,
    { ...headers, 'retry-after': String(retryAfterSeconds), 'retry-after-ms': String(Math.max(0, waitMs)) },
    { windows: full.map((w) => w.name), retryAfterSeconds },
  );
}
