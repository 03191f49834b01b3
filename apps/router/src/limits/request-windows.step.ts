import { Injectable, Logger } from '@nestjs/common';
import { DomainError, ErrorCodes, type RateLimits } from '@torouter/contracts';
import { AdmissionStepProvider } from '../admission/admission-step.decorator';
import type {
  AdmissionContext,
  AdmissionHold,
  AdmissionOutcome,
  AdmissionStep,
} from '../admission/admission.types';
import { RateLimitExceededError, formatResetDuration, rateLimitHeaders } from './rate-limit-headers';
import { RequestWindows, enabledWindows, windowSpecs, type WindowState } from './request-windows';

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

function describe(w: WindowState): string {
  return `${w.used}/${w.limit} ${windowSpecs[w.name].label}`;
}

/**
 * Order 40: the key's sliding windows (5 h / 24 h / 7 d requests) and RPM/TPM, checked and counted in
 * one atomic Redis call shared by every router replica. Only admitted requests count: if a later step
 * refuses, `release({kind:'refused'})` gives the slot and the tokens back; when the request ends, TPM is
 * corrected from the reservation to the tokens actually used (kept when usage is unknown). Fails closed:
 * without Redis, a key with limits cannot be admitted (503).
 */
@AdmissionStepProvider()
@Injectable()
export class RequestWindowsStep implements AdmissionStep {
  readonly name = 'request-windows';
  readonly order = 40;
  private readonly logger = new Logger(RequestWindowsStep.name);

  constructor(private readonly windows: RequestWindows) {}

  async admit(ctx: AdmissionContext): Promise<AdmissionHold | void> {
    const { limitsId, rateLimits } = ctx.caller.limits;
    if (enabledWindows(rateLimits).length === 0) return;
    const tokens =
      rateLimits.tpm > 0 ? tpmReservation(ctx.estimatedInputTokens, ctx.maxOutputTokens, rateLimits.tpm) : 0;
    let verdict;
    try {
      verdict = await this.windows.admit(limitsId, rateLimits, tokens);
    } catch (e) {
      this.logger.error(`rate-limit store unavailable: ${e instanceof Error ? e.message : String(e)}`);
      throw new DomainError(
        ErrorCodes.SERVICE_UNAVAILABLE,
        "this API key's rate limits cannot be checked right now; retry shortly",
      );
    }
    if (!verdict.admitted) throw this.refusal(rateLimits, verdict.windows, verdict.waitMs, tokens);

    const counted = verdict.windows.map((w) => ({
      window: w.name,
      field: w.field,
      delta: windowSpecs[w.name].unit === 'tokens' ? tokens : 1,
    }));
    return {
      headers: rateLimitHeaders(verdict.windows),
      release: (outcome) => this.release(limitsId, counted, outcome),
    };
  }

  private async release(
    limitsId: string,
    counted: Array<{ window: WindowState['name']; field: string; delta: number }>,
    outcome: AdmissionOutcome,
  ): Promise<void> {
    let changes: typeof counted;
    if (outcome.kind === 'refused') {
      changes = counted.map((c) => ({ ...c, delta: -c.delta }));
    } else {
      // Requests stay counted; TPM moves from the reservation to what was actually used.
      const actual = outcome.inputTokens + outcome.outputTokens;
      const unknownUsage = outcome.kind === 'completed' && actual === 0;
      changes = unknownUsage
        ? []
        : counted.filter((c) => c.window === 'tpm').map((c) => ({ ...c, delta: actual - c.delta }));
    }
    if (changes.length === 0) return;
    try {
      await this.windows.adjust(limitsId, changes);
    } catch (e) {
      // Never throws: a lost give-back only makes the window stricter until its buckets expire.
      this.logger.warn(`could not adjust request windows: ${e instanceof Error ? e.message : String(e)}`);
    }
  }

  private refusal(limits: RateLimits, windows: WindowState[], waitMs: number, tokens: number): DomainError {
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
}
