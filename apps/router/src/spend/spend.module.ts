import { Module } from '@nestjs/common';
import { BillingAccessCache } from './billing-access.cache';
import { PlanCatalogStep } from './plan-catalog.step';
import { RequestPlan } from './request-plan';
import { SpendCounters } from './spend-counters';
import { SpendReservationStep } from './spend-reservation.step';
import { SubscriptionStep } from './subscription.step';

/**
 * Billing's checks on the data plane, as admission steps: the plan's catalog (21), the subscription (30)
 * and the spend reservation (50) — from plans and access cached in memory and counters in Redis, with
 * no Postgres and (in steady state) no NATS per request.
 */
@Module({
  providers: [
    BillingAccessCache,
    PlanCatalogStep,
    RequestPlan,
    SpendCounters,
    SpendReservationStep,
    SubscriptionStep,
  ],
  exports: [BillingAccessCache, RequestPlan],
})
export class SpendModule {}
