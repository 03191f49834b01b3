import { Injectable, Logger } from '@nestjs/common';
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
import { randomBytes } from 'node:crypto';
import { AdmissionStepProvider } from '../admission/admission-step.decorator';
import type {
  AdmissionContext,
  AdmissionHold,
  AdmissionOutcome,
  AdmissionStep,
} from '../admission/admission.types';
import type { ModelEntity } from '../catalog/model.entity';
import { RequestPlan } from './request-plan';
import { SpendCounters, type SpendCounter } from './spend-counters';

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

type Limit = SpendCounter &
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

/** What the spend step took for a request; the usage event and settlement refer to it. */
export interface SpendHold extends AdmissionHold {
  reservationId: string;
  reservedMicroUsd: number;
  planId: string;
  priceMultiplierBp: number;
}

/**
 * Order 50, the last check: the request's worst-case cost (catalog price × plan multiplier) must fit
 * under every limit that applies — the balance minus what other requests hold (pay-as-you-go plans), each
 * subscription cap window left (day / week / month), the key's cap left — and is reserved on all of them
 * in one atomic Redis script before anything goes upstream. When the request ends, `release` replaces the
 * hold by the exact cost, which stays reserved until billing settles it. Refusals: 402
 * INSUFFICIENT_BALANCE, 429 USAGE_LIMIT_EXCEEDED (Retry-After = when the window frees), 402
 * API_KEY_QUOTA_EXHAUSTED, in that order. Redis unreachable → 503 service_unavailable: never spend
 * unchecked.
 *
 * The reservation id is the request id, so settlement (keyed by request id) finds and removes it even
 * when the usage event carries no reservation id.
 */
@AdmissionStepProvider()
@Injectable()
export class SpendReservationStep implements AdmissionStep {
  readonly name = 'spend';
  readonly order = 50;
  private readonly logger = new Logger(SpendReservationStep.name);

  constructor(
    private readonly plans: RequestPlan,
    private readonly counters: SpendCounters,
    private readonly rpc: RpcClient,
  ) {}

  async admit(ctx: AdmissionContext): Promise<SpendHold | void> {
    const plan = await this.plans.of(ctx);
    const now = new Date();
    const limits = this.limitsFor(ctx, plan, now);
    if (!limits.length) return; // nothing caps this request's spend (a subscription without caps, no key cap)
    const worst = worstCaseCost(
      ctx.model,
      ctx.estimatedInputTokens,
      ctx.maxOutputTokens,
      plan.priceMultiplierBp,
    );

    let id = ctx.requestId;
    let res = await this.reserve(limits, id, worst);
    if (res.kind === 'duplicate') {
      // A client reused an x-request-id while its first request is still held: keep both apart.
      id = `${ctx.requestId}#${randomBytes(6).toString('hex')}`;
      res = await this.reserve(limits, id, worst);
    }
    if (res.kind === 'missing') {
      // First request of this account/key/window on this Redis (or Redis lost its data): billing loads it.
      await this.rpc.send(Subjects.billingSpendStateLoad, {
        accountId: ctx.caller.accountId,
        keyId: ctx.caller.keyId,
        planId: plan.id,
        at: now.toISOString(),
      });
      res = await this.reserve(limits, id, worst);
    }
    if (res.kind === 'missing' || res.kind === 'duplicate')
      throw new DomainError(
        ErrorCodes.SERVICE_UNAVAILABLE,
        'spend limits cannot be checked right now; the request was not sent, try again',
      );
    if (res.kind === 'short')
      throw this.refusal(
        res.counters.map((i) => limits[i]),
        worst,
      );

    const hold: SpendHold = {
      reservationId: id,
      reservedMicroUsd: worst,
      planId: plan.id,
      priceMultiplierBp: plan.priceMultiplierBp,
      release: (outcome) => this.release(limits, id, outcome),
    };
    return hold;
  }

  private limitsFor(ctx: AdmissionContext, plan: PlanView, now: Date): Limit[] {
    const { accountId, keyId, quotaMicroUsd } = ctx.caller;
    const limits: Limit[] = [];
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

  private async reserve(limits: Limit[], id: string, worst: number) {
    try {
      return await this.counters.reserve(limits, id, worst, inFlightTtlMs);
    } catch (e) {
      this.logger.error(`spend reservation failed (Redis): ${e instanceof Error ? e.message : String(e)}`);
      throw new DomainError(
        ErrorCodes.SERVICE_UNAVAILABLE,
        'spend limits cannot be checked right now (limit store unreachable); the request was not sent, try again',
      );
    }
  }

  private refusal(short: Limit[], worst: number): DomainError {
    const upTo = `up to ${microToUsdString(worst)} USD`;
    if (short.some((l) => l.limit === 'balance'))
      return new DomainError(
        ErrorCodes.INSUFFICIENT_BALANCE,
        `the account balance cannot cover this request (${upTo}); top up in /billing/topup`,
      );
    const windows = short.filter((l): l is Extract<Limit, { limit: 'window' }> => l.limit === 'window');
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

  /**
   * The exact cost replaces the hold until settlement; nothing spent → released. `costMicroUsd` is what
   * the request costs the customer — the same amount its usage event carries (plan multiplier included,
   * `priceMultiplierBp` on the hold), so the hold and the settled charge agree.
   */
  private async release(limits: Limit[], id: string, outcome: AdmissionOutcome): Promise<void> {
    const exact = outcome.kind === 'refused' ? 0 : Math.max(0, Math.ceil(outcome.costMicroUsd));
    try {
      await this.counters.replace(limits, id, exact, awaitingSettlementTtlMs);
    } catch (e) {
      // The hold expires by itself; settlement removes it anyway.
      this.logger.warn(
        `replacing spend reservation ${id} failed: ${e instanceof Error ? e.message : String(e)}`,
      );
    }
  }
}
