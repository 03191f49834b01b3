import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnModuleDestroy,
} from '@nestjs/common';
import type { BillingConfig } from '@torouter/config';
import { APP_CONFIG } from '@torouter/service-runtime';
import { DataSource } from 'typeorm';
import { BillingAccountsRepository, type BillingAccount } from '../accounts/billing-accounts.repository';
import { transaction, type Sql } from '../database/sql';
import { LedgerRepository } from '../ledger/ledger.repository';
import { OrdersService } from '../orders/orders.service';
import { PlansRepository } from '../plans/plans.repository';
import { accountCounter, SpendStateService } from '../spend-state/spend-state.service';
import { addPeriod } from './periods';
import { SubscriptionsRepository, type Subscription } from './subscriptions.repository';
import { periodChargeKey, SubscriptionsService } from './subscriptions.service';

const batchSize = 20;

/**
 * At each period end: a cancelled subscription ends (`cancelled`), a granted one runs out (`expired`),
 * any other is renewed — the next period is charged from the balance, or, when the balance cannot cover
 * it, the subscription becomes `invalid` (requests on its plan get SUBSCRIPTION_INVALID). Every replica
 * runs this; `FOR UPDATE SKIP LOCKED` hands each due subscription to one of them, and the period's ledger
 * key makes a repeated charge impossible. The same loop asks Stripe about pending orders whose webhook is
 * overdue (`OrdersService.reconcileStalePending`).
 */
@Injectable()
export class SubscriptionRenewalService implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(SubscriptionRenewalService.name);
  private timer?: NodeJS.Timeout;
  private running?: Promise<unknown>;

  constructor(
    @Inject(APP_CONFIG) private readonly config: BillingConfig,
    private readonly dataSource: DataSource,
    private readonly accounts: BillingAccountsRepository,
    private readonly ledger: LedgerRepository,
    private readonly plans: PlansRepository,
    private readonly subscriptions: SubscriptionsRepository,
    private readonly subscriptionsService: SubscriptionsService,
    private readonly spendState: SpendStateService,
    private readonly orders: OrdersService,
  ) {}

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => this.tick(), this.config.BILLING_RENEWAL_INTERVAL_MS);
    this.timer.unref();
    this.tick();
  }

  async onModuleDestroy(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
  }

  private tick(): void {
    if (this.running) return;
    this.running = this.processDue()
      .catch((e: unknown) => this.logger.error(`subscription renewal failed: ${String(e)}`))
      .then(() => this.orders.reconcileStalePending())
      .catch((e: unknown) => this.logger.error(`reconciling pending orders failed: ${String(e)}`))
      .finally(() => (this.running = undefined));
  }

  /** Handles every subscription whose period has ended; returns how many. */
  async processDue(): Promise<number> {
    let total = 0;
    for (;;) {
      const touched = await transaction(this.dataSource, async (q) => {
        const due = await this.subscriptions.lockDue(q, batchSize);
        const accounts: BillingAccount[] = [];
        for (const s of due) {
          const account = await this.advance(q, s);
          if (account) accounts.push(account);
        }
        return { count: due.length, accountIds: due.map((s) => s.accountId), accounts };
      });
      if (touched.accounts.length) await this.spendState.writeSoon(touched.accounts.map(accountCounter));
      for (const id of new Set(touched.accountIds)) this.subscriptionsService.announce(id);
      total += touched.count;
      if (touched.count < batchSize) return total;
    }
  }

  /** Ends or renews one due subscription; returns the account when its balance moved. */
  private async advance(q: Sql, s: Subscription): Promise<BillingAccount | null> {
    if (s.cancelAtPeriodEnd) {
      await this.subscriptions.end(q, s.id, 'cancelled', 'cancelled by the account at period end');
      return null;
    }
    if (s.granted) {
      await this.subscriptions.end(q, s.id, 'expired', 'the granted period ended');
      return null;
    }
    const plan = await this.plans.find(s.planId, q);
    if (!plan?.period) {
      await this.subscriptions.end(q, s.id, 'expired', 'the plan no longer exists');
      return null;
    }
    const now = new Date();
    let start = s.currentPeriodEnd;
    let end = addPeriod(start, plan.period);
    // Billing was down for more than a period: the next period starts now (missed ones are not charged).
    if (end <= now) {
      start = now;
      end = addPeriod(now, plan.period);
    }
    if (plan.priceMicro > 0) {
      const account = await this.accounts.lock(q, s.accountId);
      const reserved = await this.spendState.reservedMicroOrZero(s.accountId);
      if (account.balanceMicro - reserved < plan.priceMicro) {
        await this.subscriptions.end(
          q,
          s.id,
          'invalid',
          'renewal failed: the balance could not cover the price',
        );
        this.logger.log(`subscription ${s.id} could not be renewed (insufficient balance)`);
        return null;
      }
      await this.ledger.append(q, {
        accountId: s.accountId,
        kind: 'subscription_charge',
        amountMicro: -plan.priceMicro,
        idempotencyKey: periodChargeKey(s.id, start),
        reference: s.id,
        note: `${plan.name} renewal: ${start.toISOString()} – ${end.toISOString()}`,
      });
    }
    await this.subscriptions.startPeriod(q, s.id, start, end);
    return plan.priceMicro > 0 ? ((await this.accounts.find(s.accountId, q)) ?? null) : null;
  }
}
