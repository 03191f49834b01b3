import { Injectable } from '@nestjs/common';
import { DomainError, ErrorCodes } from '@torouter/contracts';
import { AdmissionStepProvider } from '../admission/admission-step.decorator';
import type { AdmissionContext, AdmissionStep } from '../admission/admission.types';
import { BillingAccessCache } from './billing-access.cache';
import { RequestPlan } from './request-plan';

/**
 * How long past its period end an active subscription is still honoured while billing renews it (the
 * renewal runs every minute by default; a failed renewal turns it `invalid` and the router hears of it).
 */
export const renewalGraceMs = 15 * 60_000;

/**
 * Order 30: a key on a subscription plan needs an active subscription of its account to that plan —
 * none → 403 SUBSCRIPTION_NOT_FOUND; cancelled, expired, invalid (failed renewal) or past its period →
 * 403 SUBSCRIPTION_INVALID. Pay-as-you-go plans pass.
 */
@AdmissionStepProvider()
@Injectable()
export class SubscriptionStep implements AdmissionStep {
  readonly name = 'subscription';
  readonly order = 30;

  constructor(
    private readonly plans: RequestPlan,
    private readonly cache: BillingAccessCache,
  ) {}

  async admit(ctx: AdmissionContext): Promise<void> {
    const plan = await this.plans.of(ctx);
    if (plan.kind !== 'subscription') return;
    const access = await this.cache.accountAccess(ctx.caller.accountId);
    const sub = access.subscriptions.find((s) => s.planId === plan.id);
    if (!sub)
      throw new DomainError(
        ErrorCodes.SUBSCRIPTION_NOT_FOUND,
        `this API key's plan (${plan.name}) needs a subscription; subscribe in /subscriptions`,
      );
    if (sub.status !== 'active' || Date.parse(sub.currentPeriodEnd) + renewalGraceMs <= Date.now())
      throw new DomainError(
        ErrorCodes.SUBSCRIPTION_INVALID,
        `the subscription to ${plan.name} is ${sub.status === 'active' ? 'past its period' : sub.status}; renew it in /subscriptions`,
      );
  }
}
