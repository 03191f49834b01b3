import { Injectable, Logger } from '@nestjs/common';
import { DomainError, ErrorCodes } from '@torouter/contracts';
import { randomBytes } from 'node:crypto';
import { AdmissionStepProvider } from '../admission/admission-step.decorator';
import type {
  AdmissionContext,
  AdmissionHold,
  AdmissionOutcome,
  AdmissionStep,
} from '../admission/admission.types';
import { rateLimitHeaders } from '../limits/rate-limit-headers';
import type { WindowChange } from '../limits/request-windows';
import {
  countedWindows,
  windowsClaimOf,
  windowsRefusal,
  windowsSettlement,
  type WindowsClaim,
} from '../limits/windows-quota';
import { RequestPlan } from '../spend/request-plan';
import { awaitingSettlementTtlMs, inFlightTtlMs, SpendQuota, type SpendClaim } from '../spend/spend-quota';
import { QuotaStore, type QuotaAdmitResult } from './quota.store';

const message = (e: unknown) => (e instanceof Error ? e.message : String(e));

/**
 * Order 40, the last check: the key's request windows (5 h / 24 h / 7 d, RPM, TPM) and then the spend
 * limits (balance, subscription caps, key cap), checked and taken in ONE atomic Redis script — one round
 * trip per request, shared by every router replica, so N concurrent requests can never pass a limit.
 * A window refusal (429 RATE_LIMIT_EXCEEDED) comes before a spend refusal (402/429), as DECISIONS.md
 * orders them, and a refused request takes nothing.
 *
 * When the request ends, `release` settles in one more script: the windows' corrections, the spend hold
 * replaced by the exact cost (kept until billing settles the request), and the usage event appended to
 * the outbox — atomically. Fails closed: without Redis, a request with limits gets 503 and is not sent.
 */
@AdmissionStepProvider()
@Injectable()
export class QuotaStep implements AdmissionStep {
  readonly name = 'quota';
  readonly order = 40;
  private readonly logger = new Logger(QuotaStep.name);

  constructor(
    private readonly store: QuotaStore,
    private readonly plans: RequestPlan,
    private readonly spendQuota: SpendQuota,
  ) {}

  async admit(ctx: AdmissionContext): Promise<AdmissionHold | void> {
    const windows = windowsClaimOf(ctx);
    const now = new Date();
    const spend = this.spendQuota.claimOf(ctx, await this.plans.of(ctx), now);
    if (!windows && !spend) return;

    let reservationId = ctx.requestId;
    let res = await this.take(windows, spend, reservationId);
    if (res.status === 'dup') {
      // The id is held already (cannot happen with server-made request ids; kept apart all the same).
      reservationId = `${ctx.requestId}#${randomBytes(6).toString('hex')}`;
      res = await this.take(windows, spend, reservationId);
    }
    if (res.status === 'missing' && spend) {
      await this.spendQuota.loadCounters(ctx, spend, now);
      res = await this.take(windows, spend, reservationId);
    }
    if (res.status === 'windows') throw windowsRefusal(windows!, res.windows, res.waitMs);
    if (res.status === 'short') throw this.spendQuota.refusal(spend!, res.counters);
    if (res.status !== 'ok')
      throw new DomainError(
        ErrorCodes.SERVICE_UNAVAILABLE,
        'spend limits cannot be checked right now; the request was not sent, try again',
      );

    const counted = windows ? countedWindows(windows, res.windows) : [];
    return {
      headers: windows ? rateLimitHeaders(res.windows) : undefined,
      reservation: spend ? { id: reservationId, microUsd: spend.worstMicroUsd } : undefined,
      release: (outcome) => this.settle(windows, counted, spend, reservationId, outcome),
    };
  }

  private async take(
    windows: WindowsClaim | undefined,
    spend: SpendClaim | undefined,
    reservationId: string,
  ): Promise<QuotaAdmitResult> {
    try {
      return await this.store.admit({
        windows: windows && { redisKey: windows.redisKey, args: windows.args },
        spend: spend && {
          counters: spend.limits,
          reservationId,
          worstMicroUsd: spend.worstMicroUsd,
          ttlMs: inFlightTtlMs,
        },
      });
    } catch (e) {
      this.logger.error(`quota check failed (Redis): ${message(e)}`);
      throw new DomainError(
        ErrorCodes.SERVICE_UNAVAILABLE,
        "this API key's limits cannot be checked right now (limit store unreachable); the request was not sent, try again",
      );
    }
  }

  /** Never throws: a lost settlement only makes limits stricter until they expire (and billing settles). */
  private async settle(
    windows: WindowsClaim | undefined,
    counted: WindowChange[],
    spend: SpendClaim | undefined,
    reservationId: string,
    outcome: AdmissionOutcome,
  ): Promise<boolean> {
    try {
      await this.store.settle({
        windows: windows && { redisKey: windows.redisKey, changes: windowsSettlement(counted, outcome) },
        spend: spend && {
          counters: spend.limits,
          reservationId,
          exactMicroUsd: this.spendQuota.exactMicroUsd(outcome),
          ttlMs: awaitingSettlementTtlMs,
        },
        record: outcome.record,
      });
      return outcome.record !== undefined;
    } catch (e) {
      this.logger.warn(`settling request ${reservationId} in Redis failed: ${message(e)}`);
      return false;
    }
  }
}
