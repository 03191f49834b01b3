import { Module } from '@nestjs/common';
import { BillingAccessCache } from './billing-access.cache';
import { PlanCatalogStep } from './plan-catalog.step';
import { RequestPlan } from './request-plan';
import { SpendQuota } from './spend-quota';
import { SubscriptionStep } from './subscription.step';

/**
 * Billing's checks on the data plane: the plan's catalog (21) and the subscription (30) as admission
 * steps, and the spend part of the quota step (40) — from plans and access cached in memory and counters
 * in Redis, with no Postgres and (in steady state) no NATS per request.
 */
@Module({
  providers: [BillingAccessCache, PlanCatalogStep, RequestPlan, SpendQuota, SubscriptionStep],
  exports: [BillingAccessCache, RequestPlan, SpendQuota],
})
export class SpendModule {}
