import { Injectable } from '@nestjs/common';
import { spendWindow, SpendWindowKinds, type UsageRecordedEvent } from '@torouter/contracts';
import { DataSource } from 'typeorm';
import { BillingAccountsRepository } from '../accounts/billing-accounts.repository';
import { isUuid, transaction } from '../database/sql';
import { LedgerRepository } from '../ledger/ledger.repository';
import { PlansRepository, type Plan } from '../plans/plans.repository';
import {
  accountCounter,
  keyCounter,
  SpendStateService,
  windowCounter,
  type CounterWrite,
} from '../spend-state/spend-state.service';
import { SpendRepository, type Versioned } from '../spend-state/spend.repository';
import { UsageSettlementsRepository } from './usage-settlements.repository';

export interface SettlementOutcome {
  /** True when the event had been settled before: nothing new was written. */
  duplicate: boolean;
  chargedMicro: number;
}

/** The ledger key of a usage charge: a request is charged once, however often its event arrives. */
export const usageChargeKey = (requestId: string) => `usage:${requestId}`;

/**
 * Settles one usage event in ONE Postgres transaction: the settlement record (idempotency), the ledger
 * entry and balance (pay-as-you-go plans; subscription usage only counts toward the caps), the key's
 * spend and the plan's day/week/month window spend. Then the Redis copy: the new values (if newer) and
 * the router's reservation removed, in one script. Safe to run any number of times.
 */
@Injectable()
export class SettlementService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly accounts: BillingAccountsRepository,
    private readonly ledger: LedgerRepository,
    private readonly plans: PlansRepository,
    private readonly spend: SpendRepository,
    private readonly settlements: UsageSettlementsRepository,
    private readonly spendState: SpendStateService,
  ) {}

  async settle(ev: UsageRecordedEvent): Promise<SettlementOutcome> {
    const account = await this.accounts.ensure(ev.accountId);
    const plan = await this.planOf(ev.planId, account.defaultPlanId);
    const cost = ev.costMicroUsd;
    const charged = plan.kind === 'payg' ? cost : 0;
    const startedAt = new Date(ev.startedAt);
    const windowsOf = (planId: string) =>
      SpendWindowKinds.map((kind) => ({
        accountId: ev.accountId,
        planId,
        kind,
        windowStart: spendWindow(kind, startedAt).start,
      }));
    let windows = windowsOf(plan.id);

    const written = await transaction(this.dataSource, async (q) => {
      const fresh = await this.settlements.insert(q, {
        requestId: ev.requestId,
        accountId: ev.accountId,
        keyId: ev.keyId,
        planId: plan.id,
        planKind: plan.kind,
        costMicro: cost,
        chargedMicro: charged,
        startedAt,
        finishedAt: new Date(ev.finishedAt),
      });
      if (!fresh) return null;
      if (charged > 0) {
        await this.ledger.append(q, {
          accountId: ev.accountId,
          kind: 'usage_charge',
          amountMicro: -charged,
          idempotencyKey: usageChargeKey(ev.requestId),
          reference: ev.requestId,
          note: ev.model,
        });
      }
      if (cost === 0) return 'nothing to count' as const;
      const key = await this.spend.addKeySpend(q, ev.keyId, ev.accountId, cost);
      const spent: Versioned[] = [];
      for (const w of windows) spent.push(await this.spend.addWindowSpend(q, w, cost));
      return { account: charged > 0 ? await this.accounts.find(ev.accountId, q) : null, key, windows: spent };
    });

    // The counters as Postgres has them now (after a duplicate: re-read, the first run may have died
    // between its commit and its Redis write, under the plan it recorded; a free request: re-read too,
    // its hold must still be released everywhere).
    if (!written) windows = windowsOf((await this.settlements.find(ev.requestId))?.planId ?? plan.id);
    const changed = written && written !== 'nothing to count' ? written : null;
    const now = Date.now();
    const counters: CounterWrite[] = [];
    const acc = changed ? changed.account : await this.accounts.find(ev.accountId);
    if (acc) counters.push(accountCounter(acc));
    const key = changed ? changed.key : await this.spend.keySpend(ev.keyId);
    counters.push(keyCounter(ev.keyId, key));
    const spent = changed
      ? changed.windows
      : await Promise.all(windows.map((w) => this.spend.windowSpend(w)));
    spent.forEach((s, i) =>
      counters.push(
        windowCounter(ev.accountId, windows[i].planId, windows[i].kind, windows[i].windowStart, s, now),
      ),
    );
    // A counter Postgres has nothing for yet is not created here (the router's load seeds it, e.g. a
    // rotated key's inherited spend); its holds are released all the same.
    for (const c of counters) if (c.version === 0) c.releaseOnly = true;
    const releaseIds = [...new Set([ev.reservationId, ev.requestId].filter((id): id is string => !!id))];
    await this.spendState.write(counters, releaseIds);
    return { duplicate: written === null, chargedMicro: written === null ? 0 : charged };
  }

  private async planOf(planId: string | null, defaultPlanId: string): Promise<Plan> {
    if (planId && isUuid(planId)) {
      const plan = await this.plans.find(planId);
      if (plan) return plan;
    }
    const fallback = await this.plans.find(defaultPlanId);
    if (!fallback) throw new Error(`default plan ${defaultPlanId} vanished`);
    return fallback;
  }
}
