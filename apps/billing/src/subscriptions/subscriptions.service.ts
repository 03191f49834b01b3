import { Injectable } from '@nestjs/common';
import {
  DomainError,
  ErrorCodes,
  Subjects,
  spendWindow,
  type AccountAccessView,
  type SpendWindowKind,
  type SubscriptionView,
} from '@torouter/contracts';
import { EventBus } from '@torouter/messaging';
import { microToUsd, microToUsdString } from '@torouter/money';
import { DataSource } from 'typeorm';
import { BillingAccountsRepository } from '../accounts/billing-accounts.repository';
import { isUniqueViolation, isUuid, transaction } from '../database/sql';
import { LedgerRepository } from '../ledger/ledger.repository';
import { PlansRepository, type Plan } from '../plans/plans.repository';
import { accountCounter, SpendStateService } from '../spend-state/spend-state.service';
import { SpendRepository } from '../spend-state/spend.repository';
import { addPeriod } from './periods';
import { SubscriptionsRepository, type Subscription } from './subscriptions.repository';

/** The ledger key of one period's charge: a period is charged once, whatever retries happen. */
export function periodChargeKey(subscriptionId: string, periodStart: Date): string {
  return `subscription:${subscriptionId}:${periodStart.toISOString()}`;
}

/**
 * Subscriptions to subscription plans: bought from the balance (the first period is charged at once),
 * granted by an administrator without charge, cancelled at period end; renewals are charged at each
 * period start (`SubscriptionRenewalService`).
 */
@Injectable()
export class SubscriptionsService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly accounts: BillingAccountsRepository,
    private readonly ledger: LedgerRepository,
    private readonly plans: PlansRepository,
    private readonly subscriptions: SubscriptionsRepository,
    private readonly spend: SpendRepository,
    private readonly spendState: SpendStateService,
    private readonly events: EventBus,
  ) {}

  createSubscription(accountId: string, planId: string): Promise<SubscriptionView> {
    return this.start(accountId, planId, false);
  }

  grantSubscription(accountId: string, planId: string): Promise<SubscriptionView> {
    return this.start(accountId, planId, true);
  }

  private async start(accountId: string, planId: string, granted: boolean): Promise<SubscriptionView> {
    const plan = await this.plans.find(planId);
    if (!plan) throw new DomainError(ErrorCodes.NOT_FOUND, `plan ${planId} does not exist`);
    if (plan.kind !== 'subscription' || !plan.period)
      throw new DomainError(
        ErrorCodes.VALIDATION_FAILED,
        `planId: ${plan.name} is a pay-as-you-go plan; there is nothing to subscribe to`,
      );
    if (plan.archived && !granted)
      throw new DomainError(ErrorCodes.CONFLICT, `plan ${plan.name} takes no new subscriptions`);
    const period = plan.period;
    const reserved = granted ? 0 : await this.spendState.reservedMicroOrZero(accountId);
    try {
      const { sub, account } = await transaction(this.dataSource, async (q) => {
        const locked = await this.accounts.lock(q, accountId);
        if (await this.subscriptions.activeFor(q, accountId, plan.id))
          throw new DomainError(
            ErrorCodes.CONFLICT,
            `there is an active subscription to ${plan.name} already`,
          );
        const start = new Date();
        const created = await this.subscriptions.insert(q, {
          accountId,
          planId: plan.id,
          granted,
          start,
          end: addPeriod(start, period),
        });
        if (!granted && plan.priceMicro > 0) {
          const available = locked.balanceMicro - reserved;
          if (available < plan.priceMicro) {
            throw new DomainError(
              ErrorCodes.INSUFFICIENT_BALANCE,
              `${plan.name} costs ${microToUsdString(plan.priceMicro)} USD; the available balance is ${microToUsdString(Math.max(available, 0))} USD`,
            );
          }
          await this.ledger.append(q, {
            accountId,
            kind: 'subscription_charge',
            amountMicro: -plan.priceMicro,
            idempotencyKey: periodChargeKey(created.id, start),
            reference: created.id,
            note: `${plan.name}: ${start.toISOString()} – ${created.currentPeriodEnd.toISOString()}`,
          });
        }
        return { sub: created, account: (await this.accounts.find(accountId, q))! };
      });
      await this.spendState.writeSoon([accountCounter(account)]);
      this.announce(accountId);
      return this.view(sub, plan);
    } catch (e) {
      if (isUniqueViolation(e, 'subscriptions_one_active_key'))
        throw new DomainError(ErrorCodes.CONFLICT, `there is an active subscription to ${plan.name} already`);
      throw e;
    }
  }

  /** Ends the subscription when its current period ends (no further charge); the period stays usable. */
  async cancelSubscription(accountId: string, subscriptionId: string): Promise<SubscriptionView> {
    const sub = await transaction(this.dataSource, async (q) => {
      const found = await this.subscriptions.lockOfAccount(q, accountId, subscriptionId);
      if (!found)
        throw new DomainError(ErrorCodes.NOT_FOUND, `subscription ${subscriptionId} does not exist`);
      if (found.status !== 'active')
        throw new DomainError(ErrorCodes.CONFLICT, `this subscription has ended already (${found.status})`);
      return found.cancelAtPeriodEnd ? found : this.subscriptions.cancelAtPeriodEnd(q, found.id);
    });
    this.announce(accountId);
    const plan = await this.plans.find(sub.planId);
    return this.view(sub, plan!);
  }

  async listSubscriptions(accountId: string): Promise<SubscriptionView[]> {
    const latest = await this.subscriptions.latestPerPlan(accountId);
    const views: SubscriptionView[] = [];
    for (const s of latest) {
      const plan = await this.plans.find(s.planId);
      if (plan) views.push(await this.view(s, plan));
    }
    return views;
  }

  async accountAccess(accountId: string): Promise<AccountAccessView> {
    const account = await this.accounts.ensure(accountId);
    const latest = await this.subscriptions.latestPerPlan(accountId);
    return {
      accountId,
      defaultPlanId: account.defaultPlanId,
      subscriptions: latest.map((s) => ({
        id: s.id,
        planId: s.planId,
        status: s.status,
        currentPeriodEnd: s.currentPeriodEnd.toISOString(),
      })),
    };
  }

  async view(s: Subscription, plan: Plan): Promise<SubscriptionView> {
    const now = new Date();
    const spent = async (kind: SpendWindowKind) =>
      microToUsd(
        (
          await this.spend.windowSpend({
            accountId: s.accountId,
            planId: s.planId,
            kind,
            windowStart: spendWindow(kind, now).start,
          })
        ).spentMicro,
      );
    return {
      id: s.id,
      planId: s.planId,
      planName: plan.name,
      status: s.status,
      granted: s.granted,
      cancelAtPeriodEnd: s.cancelAtPeriodEnd,
      currentPeriodStart: s.currentPeriodStart.toISOString(),
      currentPeriodEnd: s.currentPeriodEnd.toISOString(),
      createdAt: s.createdAt.toISOString(),
      spend: { dailyUsd: await spent('d'), weeklyUsd: await spent('w'), monthlyUsd: await spent('m') },
      caps: {
        dailyUsd: microToUsd(plan.dailyCapMicro),
        weeklyUsd: microToUsd(plan.weeklyCapMicro),
        monthlyUsd: microToUsd(plan.monthlyCapMicro),
      },
    };
  }

  /** Every router replica reloads this account's plans and subscriptions. */
  announce(accountId: string): void {
    if (isUuid(accountId)) this.events.publish(Subjects.billingAccountAccessChanged, { accountId });
  }
}
