import { Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import { DiscoveryService } from '@nestjs/core';
import { AdmissionStepProvider } from './admission-step.decorator';
import type { AdmissionContext, AdmissionHold, AdmissionOutcome, AdmissionStep } from './admission.types';

/** Steps ordered below this check only the caller (IP) and must not read the model. */
export const MODEL_CHECKS_FROM = 20;

/** The holds of an admitted request; `finish` settles them all exactly once. */
export class Admission {
  private finished = false;

  constructor(
    private readonly holds: AdmissionHold[],
    private readonly logger: Logger,
  ) {}

  /** Headers every hold wants on the response (rate-limit headers…). */
  get headers(): Record<string, string> {
    return Object.assign({}, ...this.holds.map((h) => h.headers ?? {})) as Record<string, string>;
  }

  /** The spend reservation of the request, if a check took one. */
  get reservation(): { id: string; microUsd: number } | undefined {
    return this.holds.find((h) => h.reservation)?.reservation;
  }

  /** Settles every hold; resolves `true` when one of them journaled `outcome.record`. */
  async finish(outcome: AdmissionOutcome): Promise<boolean> {
    if (this.finished) return false;
    this.finished = true;
    return releaseAll(this.holds, outcome, this.logger);
  }
}

async function releaseAll(
  holds: AdmissionHold[],
  outcome: AdmissionOutcome,
  logger: Logger,
): Promise<boolean> {
  // Release in reverse order of taking, each independently: one failing must not leak the others. The
  // usage record is journaled once, by the first hold that can.
  let journaled = false;
  for (const hold of [...holds].reverse()) {
    try {
      const wrote = await hold.release(journaled ? { ...outcome, record: undefined } : outcome);
      journaled ||= wrote === true;
    } catch (e) {
      logger.error(`releasing an admission hold failed: ${e instanceof Error ? e.message : String(e)}`);
    }
  }
  return journaled;
}

/**
 * Runs every admission step in order before any upstream call. The first refusal answers; whatever earlier
 * steps took is given back (`refused`), so a refused request is never counted in a window or billed.
 */
@Injectable()
export class AdmissionPipeline implements OnModuleInit {
  private readonly logger = new Logger(AdmissionPipeline.name);
  private steps: AdmissionStep[] = [];

  constructor(private readonly discovery: DiscoveryService) {}

  onModuleInit(): void {
    this.steps = this.discovery
      .getProviders({ metadataKey: AdmissionStepProvider.KEY })
      .map((wrapper) => wrapper.instance as AdmissionStep)
      .filter((s): s is AdmissionStep => !!s && typeof s.admit === 'function')
      .sort((a, b) => a.order - b.order);
    this.logger.log(
      `admission steps: ${this.steps.map((s) => `${s.order}:${s.name}`).join(' → ') || '(none)'}`,
    );
  }

  get stepNames(): string[] {
    return this.steps.map((s) => s.name);
  }

  /**
   * Runs only the caller checks (order below MODEL_CHECKS_FROM: the IP lists), which need no model. Used
   * when the requested model is unknown, so a blocked IP still gets ACCESS_DENIED before model_not_found
   * (DECISIONS.md's order); nothing is held.
   */
  async checkCaller(
    ctx: Pick<AdmissionContext, 'requestId' | 'caller' | 'surface' | 'clientIp'>,
  ): Promise<void> {
    const refused = { kind: 'refused' as const, costMicroUsd: 0, inputTokens: 0, outputTokens: 0 };
    for (const step of this.steps) {
      if (step.order >= MODEL_CHECKS_FROM) break;
      const hold = await step.admit(ctx as AdmissionContext);
      if (hold) await releaseAll([hold], refused, this.logger);
    }
  }

  async admit(ctx: AdmissionContext): Promise<Admission> {
    const holds: AdmissionHold[] = [];
    for (const step of this.steps) {
      try {
        const hold = await step.admit(ctx);
        if (hold) holds.push(hold);
      } catch (e) {
        await releaseAll(
          holds,
          { kind: 'refused', costMicroUsd: 0, inputTokens: 0, outputTokens: 0 },
          this.logger,
        );
        throw e;
      }
    }
    return new Admission(holds, this.logger);
  }
}
