import { Injectable } from '@nestjs/common';
import {
  DomainError,
  ErrorCodes,
  SpendCounterKeys,
  spendWindow,
  Subjects,
  type PlanView,
  type SpendWindowKind,
} from '@torouter/contracts';
import { RpcClient } from '@torouter/messaging';
import { applyMultiplierBp, microToUsdString, tokenCost, usdToMicro } from '@torouter/money';
import type { AdmissionContext, AdmissionOutcome } from '../admission/admission.types';
import type { ModelEntity } from '../catalog/model.entity';
import type { SpendCounter } from './spend-counters';

/** A request's hold lives this long unless released: a router that crashed mid-request frees it by expiry. */
export const inFlightTtlMs = 30 * 60_000;
/** After the request, its exact cost stays reserved until billing settles it (normally within seconds). */
export const awaitingSettlementTtlMs = 6 * 3600_000;

/** The most a request can cost: every input token at the dearest input-side price, plus `maxOutputTokens`. */
export function worstCaseCost(
  model: Pick<
    ModelEntity,
    | 'inputMicroUsdPerMTok'
    | 'outputMicroUsdPerMTok'
    | 'cacheWrite5mMicroUsdPerMTok'
    | 'cacheWrite1hMicroUsdPerMTok'
    | 'perRequestMicroUsd'
  >,
  estimatedInputTokens: number,
  maxOutputTokens: number,
  multiplierBp: number,
): number {
  // Input can be billed as cache writes, which may cost more than plain input.
  const inputPrice = Math.max(
    model.inputMicroUsdPerMTok,
    model.cacheWrite5mMicroUsdPerMTok ?? 0,
    model.cacheWrite1hMicroUsdPerMTok ?? 0,
  );
  const list =
    tokenCost(Math.max(0, estimatedInputTokens), inputPrice) +
    tokenCost(Math.max(0, maxOutputTokens), model.outputMicroUsdPerMTok) +
    (model.perRequestMicroUsd ?? 0);
  return applyMultiplierBp(list, multiplierBp);
}

/** One spend counter a request is checked against, and what its refusal says. */
export type SpendLimit = SpendCounter &
  ({ limit: 'balance' } | { limit: 'key' } | { limit: 'window'; kind: SpendWindowKind; end: Date });

const windowNames: Record<SpendWindowKind, string> = { d: 'daily', w: 'weekly', m: 'monthly' };

/** A subscription cap refusal, with Retry-After (set by the router's error-headers interceptor). */
export class UsageLimitExceededError extends DomainError {
  constructor(
    message: string,
    readonly responseHeaders: Record<string, string>,
    details: Record<string, unknown>,
  ) {
    super(ErrorCodes.USAGE_LIMIT_EXCEEDED, message, details);
    this.name = 'UsageLimitExceededError';
  }
}

/** A request's claim on the spend limits that apply to it. */
export interface SpendClaim {
  limits: SpendLimit[];
  /** The worst-case cost reserved, in micro-USD (plan multiplier included). */
  worstMicroUsd: number;
  plan: PlanView;
}

/**
 * The spend part of a request's quota claim: its worst-case cost (catalog price × plan multiplier) must
 * fit under every limit that applies — the balance minus what other requests hold (pay-as-you-go plans),
 * each subscription cap window left (day / week / month), the key's cap left — and is reserved on all of
 * them by the quota step's atomic Redis script, before anything goes upstream. When the request ends the
 * hold becomes the exact cost, which stays reserved until billing settles it. Refusals: 402
 * INSUFFICIENT_BALANCE, 429 USAGE_LIMIT_EXCEEDED (Retry-After = when the window frees), 402
 * API_KEY_QUOTA_EXHAUSTED, in that order.
 *
 * The reservation id is the request id, so settlement (keyed by request id) finds and removes it.
 */
@Injectable()
export class SpendQuota {
  constructor(private readonly rpc: RpcClient) {}

  /** The request's claim; undefined when nothing caps its spend (a subscription without caps, no key cap). */
  claimOf(ctx: AdmissionContext, plan: PlanView, now: Date): SpendClaim | undefined {
    const limits = this.limitsFor(ctx, plan, now);
    if (!limits.length) return undefined;
    const worstMicroUsd = worstCaseCost(
      ctx.model,
      ctx.estimatedInputTokens,
      ctx.maxOutputTokens,
      plan.priceMultiplierBp,
    );
    return { limits, worstMicroUsd, plan };
  }

  /** First request of this account/key/window on this Redis (or Redis lost its data): billing loads it. */
  async loadCounters(ctx: AdmissionContext, claim: SpendClaim, now: Date): Promise<void> {
    await this.rpc.send(Subjects.billingSpendStateLoad, {
      accountId: ctx.caller.accountId,
      keyId: ctx.caller.keyId,
      planId: claim.plan.id,
      at: now.toISOString(),
    });
  }

  /**
   * What the hold becomes when the request ends: its exact cost (nothing spent → released). `costMicroUsd`
   * is what the request costs the customer — the same amount its usage event carries (plan multiplier
   * included), so the hold and the settled charge agree.
   */
  exactMicroUsd(outcome: AdmissionOutcome): number {
    return outcome.kind === 'refused' ? 0 : Math.max(0, Math.ceil(outcome.costMicroUsd));
  }

  private limitsFor(ctx: AdmissionContext, plan: PlanView, now: Date): SpendLimit[] {
    const { accountId, keyId, quotaMicroUsd } = ctx.caller;
    const limits: SpendLimit[] = [];
    if (plan.kind === 'payg')
      limits.push({ key: SpendCounterKeys.account(accountId), check: { mode: 'balance' }, limit: 'balance' });
    const caps: Record<SpendWindowKind, number> = {
      d: usdToMicro(plan.dailyCapUsd),
      w: usdToMicro(plan.weeklyCapUsd),
      m: usdToMicro(plan.monthlyCapUsd),
    };
    for (const kind of ['d', 'w', 'm'] as const) {
      if (caps[kind] <= 0) continue;
      const { start, end } = spendWindow(kind, now);
      limits.push({
        key: SpendCounterKeys.window(accountId, plan.id, kind, start),
        check: { mode: 'cap', capMicro: caps[kind] },
        limit: 'window',
        kind,
        end,
      });
    }
    if (quotaMicroUsd > 0)
      limits.push({
        key: SpendCounterKeys.key(keyId),
        check: { mode: 'cap', capMicro: quotaMicroUsd },
        limit: 'key',
      });
    return limits;
  }

  /** The refusal for the counters (indices into `claim.limits`) that cannot hold the worst-case cost. */
  refusal(claim: SpendClaim, shortIndices: number[]): DomainError {
    const short = shortIndices.map((i) => claim.limits[i]);
    const upTo = `up to ${microToUsdString(claim.worstMicroUsd)} USD`;
    if (short.some((l) => l.limit === 'balance'))
      return new DomainError(
        ErrorCodes.INSUFFICIENT_BALANCE,
        `the account balance cannot cover this request (${upTo}); top up in /billing/topup`,
      );
    const windows = short.filter((l): l is Extract<SpendLimit, { limit: 'window' }> => l.limit === 'window');
    if (windows.length) {
      // The request can run again once every full window has rolled over.
      const freeAt = Math.max(...windows.map((w) => w.end.getTime()));
      const retryAfter = Math.max(1, Math.ceil((freeAt - Date.now()) / 1000));
      const names = windows.map((w) => windowNames[w.kind]).join(' and ');
      return new UsageLimitExceededError(
        `the plan's ${names} spend cap is reached (this request may cost ${upTo}); it resets at ${new Date(freeAt).toISOString()}`,
        { 'retry-after': String(retryAfter) },
        { windows: windows.map((w) => windowNames[w.kind]), retryAfterSeconds: retryAfter },
      );
    }
    return new DomainError(
      ErrorCodes.API_KEY_QUOTA_EXHAUSTED,
      `this API key's spend cap is reached (this request may cost ${upTo}); raise the key's quota`,
    );
  }
}
