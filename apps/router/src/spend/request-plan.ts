import { Injectable } from '@nestjs/common';
import type { PlanView } from '@torouter/contracts';
import type { AdmissionContext } from '../admission/admission.types';
import { BillingAccessCache } from './billing-access.cache';

/** The plan a request runs under, resolved once per request and shared by billing's admission steps. */
@Injectable()
export class RequestPlan {
  private readonly resolved = new WeakMap<AdmissionContext, Promise<PlanView>>();

  constructor(private readonly cache: BillingAccessCache) {}

  of(ctx: AdmissionContext): Promise<PlanView> {
    let plan = this.resolved.get(ctx);
    if (!plan) {
      plan = this.cache.planOf(ctx.caller);
      this.resolved.set(ctx, plan);
    }
    return plan;
  }
}
