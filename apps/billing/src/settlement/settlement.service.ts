import { Injectable } from '@nestjs/common';
import { spendWindow, SpendWindowKinds, UsageRecordedEvent, type PlanKind } from '@torouter/contracts';
import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { z } from 'zod';
import { BillingAccountsRepository } from '../accounts/billing-accounts.repository';
import { isUuid, transaction, type Sql } from '../database/sql';
import { LedgerRepository } from '../ledger/ledger.repository';
import {
  accountCounter,
  keyCounter,
  SpendStateService,
  windowCounter,
  type CounterWrite,
} from '../spend-state/spend-state.service';
import type { Versioned } from '../spend-state/spend.repository';
import {
  UsageSettlementsRepository,
  windowRefKey,
  type KeySpendDue,
  type SpendWindowRef,
} from './usage-settlements.repository';

/**
 * What settling a usage event needs of it, validated as the contract says: the settlement job's payload
 * (the rest of the event is the usage service's business). Parsing an event, or a job stored with the
 * whole event by an earlier version, drops the rest.
 */
export const SettlementJobData = UsageRecordedEvent.pick({
  requestId: true,
  accountId: true,
  keyId: true,
  planId: true,
  model: true,
  costMicroUsd: true,
  reservationId: true,
  startedAt: true,
  finishedAt: true,
});
export type SettlementJobData = z.infer<typeof SettlementJobData>;

export interface SettlementOutcome {
  /** True when the event had been settled before: nothing new was written. */
  duplicate: boolean;
  chargedMicro: number;
}

/** The ledger key of a usage charge: a request is charged once, however often its event arrives. */
export const usageChargeKey = (requestId: string) => `usage:${requestId}`;

const zeroSpend: Versioned = { spentMicro: 0, version: 0 };

interface Planned {
  ev: SettlementJobData;
  planId: string;
  planKind: PlanKind;
  chargedMicro: number;
  startedAt: Date;
}

/**
 * Settles usage events, a batch in ONE Postgres transaction: per event its settlement record (the
 * idempotency record: a request id is settled once, whatever batch it comes in again), its ledger entry
 * and balance move (pay-as-you-go plans; subscription usage only counts toward the caps); per key and per
 * plan window the batch's summed spend; per key the amount keys has to show, in the outbox. Then the Redis
 * copy: the new counter values (if newer) and the router's reservations removed, one script per counter
 * set. Safe to run any number of times, with any batch composition.
 */
@Injectable()
export class SettlementService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly accounts: BillingAccountsRepository,
    private readonly ledger: LedgerRepository,
    private readonly settlements: UsageSettlementsRepository,
    private readonly spendState: SpendStateService,
  ) {}

  /** One outcome per event, in order; a request id repeated within the batch is a duplicate after the first. */
  async settleBatch(events: SettlementJobData[]): Promise<SettlementOutcome[]> {
    const unique = new Map<string, SettlementJobData>();
    for (const ev of events) if (!unique.has(ev.requestId)) unique.set(ev.requestId, ev);
    const list = [...unique.values()];
    const accountIds = [...new Set(list.map((ev) => ev.accountId))];

    const state = await transaction(this.dataSource, async (q) => {
      const planned = await this.plan(q, list, accountIds);

      const fresh = await this.settlements.insertMany(
        q,
        planned.map((p) => ({
          requestId: p.ev.requestId,
          accountId: p.ev.accountId,
          keyId: p.ev.keyId,
          planId: p.planId,
          planKind: p.planKind,
          costMicro: p.ev.costMicroUsd,
          chargedMicro: p.chargedMicro,
          startedAt: p.startedAt,
          finishedAt: new Date(p.ev.finishedAt),
        })),
      );
      const settledBefore = await this.settlements.findMany(
        q,
        list.filter((ev) => !fresh.has(ev.requestId)).map((ev) => ev.requestId),
      );
      const isFresh = (p: Planned) => fresh.has(p.ev.requestId);

      // Ledger entries in account order: every batch locks accounts in the same order.
      const charges = planned
        .filter((p) => isFresh(p) && p.chargedMicro > 0)
        .sort((a, b) => compare(a.ev.accountId, b.ev.accountId) || compare(a.ev.requestId, b.ev.requestId));
      await this.ledger.appendMany(
        q,
        charges.map((p) => ({
          accountId: p.ev.accountId,
          kind: 'usage_charge' as const,
          amountMicro: -p.chargedMicro,
          idempotencyKey: usageChargeKey(p.ev.requestId),
          reference: p.ev.requestId,
          note: p.ev.model,
        })),
      );

      const keyAdds = new Map<string, { keyId: string; accountId: string; amountMicro: number }>();
      const windowAdds = new Map<string, SpendWindowRef & { amountMicro: number }>();
      for (const p of planned) {
        const cost = p.ev.costMicroUsd;
        if (!isFresh(p) || cost === 0) continue;
        const k = keyAdds.get(p.ev.keyId);
        if (k) k.amountMicro += cost;
        else keyAdds.set(p.ev.keyId, { keyId: p.ev.keyId, accountId: p.ev.accountId, amountMicro: cost });
        for (const w of windowsOf(p.ev.accountId, p.planId, p.startedAt)) {
          const id = windowRefKey(w);
          const known = windowAdds.get(id);
          if (known) known.amountMicro += cost;
          else windowAdds.set(id, { ...w, amountMicro: cost });
        }
      }

      // keys is told after the commit, from the outbox: one entry per key for this batch; and for an event
      // settled before the outbox existed, under its request id, as that version did after its commit.
      const due: KeySpendDue[] = [...keyAdds.values()].map((k) => ({
        spendId: `settled:${randomUUID()}`,
        keyId: k.keyId,
        amountMicro: k.amountMicro,
      }));
      for (const [requestId, s] of settledBefore)
        if (!s.keySpendOutboxed && s.costMicro > 0)
          due.push({ spendId: requestId, keyId: s.keyId, amountMicro: s.costMicro });

      // The counters as Postgres has them now. After a duplicate too: the first run may have died between
      // its commit and its Redis write; windows are those of the plan it recorded.
      const windows = new Map<string, SpendWindowRef[]>();
      for (const p of planned) {
        const planId = settledBefore.get(p.ev.requestId)?.planId ?? p.planId;
        windows.set(p.ev.requestId, windowsOf(p.ev.accountId, planId, p.startedAt));
      }
      const alsoWindows = new Map<string, SpendWindowRef>();
      for (const ws of windows.values())
        for (const w of ws) {
          const id = windowRefKey(w);
          if (!windowAdds.has(id)) alsoWindows.set(id, w);
        }
      const counters = await this.settlements.addSpendsAndReadCounters(q, {
        keyAdds: [...keyAdds.values()],
        windowAdds: [...windowAdds.values()],
        due,
        accountIds,
        alsoKeys: [...new Set(list.map((ev) => ev.keyId))].filter((k) => !keyAdds.has(k)),
        alsoWindows: [...alsoWindows.values()],
      });
      return { fresh, planned, windows, ...counters };
    });

    // Redis: events with the same counters (same account, key, plan and windows) share one script call,
    // which writes each counter once and releases all their reservations.
    const now = Date.now();
    const groups = new Map<string, { counters: CounterWrite[]; releaseIds: Set<string> }>();
    for (const p of state.planned) {
      const ev = p.ev;
      const ws = state.windows.get(ev.requestId)!;
      const groupKey = `${ev.accountId}|${ev.keyId}|${ws.map(windowRefKey).join('|')}`;
      let group = groups.get(groupKey);
      if (!group) {
        const counters: CounterWrite[] = [];
        const account = state.balances.get(ev.accountId);
        if (account) counters.push(accountCounter(account));
        counters.push(keyCounter(ev.keyId, state.keySpend.get(ev.keyId) ?? zeroSpend));
        for (const w of ws)
          counters.push(
            windowCounter(
              w.accountId,
              w.planId,
              w.kind,
              w.windowStart,
              state.windowSpend.get(windowRefKey(w)) ?? zeroSpend,
              now,
            ),
          );
        // A counter Postgres has nothing for yet is not created here (the router's load seeds it, e.g. a
        // rotated key's inherited spend); its holds are released all the same.
        for (const c of counters) if (c.version === 0) c.releaseOnly = true;
        group = { counters, releaseIds: new Set() };
        groups.set(groupKey, group);
      }
      if (ev.reservationId) group.releaseIds.add(ev.reservationId);
      group.releaseIds.add(ev.requestId);
    }
    await Promise.all([...groups.values()].map((g) => this.spendState.write(g.counters, [...g.releaseIds])));

    const charged = new Map(state.planned.map((p) => [p.ev.requestId, p.chargedMicro]));
    const reported = new Set<string>();
    return events.map((ev) => {
      const first = !reported.has(ev.requestId);
      reported.add(ev.requestId);
      const settledNow = first && state.fresh.has(ev.requestId);
      return { duplicate: !settledNow, chargedMicro: settledNow ? charged.get(ev.requestId)! : 0 };
    });
  }

  /**
   * The plan each event is settled under: its key's plan if billing knows it, else the account's default.
   * An account billing has no row for yet gets it here (with its default plan).
   */
  private async plan(q: Sql, list: SettlementJobData[], accountIds: string[]): Promise<Planned[]> {
    const eventPlans = new Set<string>();
    for (const ev of list) if (isUuid(ev.planId)) eventPlans.add(ev.planId);
    const { defaultPlans, kinds } = await this.settlements.accountPlans(q, accountIds, [...eventPlans]);
    const unknown: string[] = [];
    for (const id of accountIds)
      if (!defaultPlans.has(id)) {
        const created = (await this.accounts.ensure(id, q)).defaultPlanId;
        defaultPlans.set(id, created);
        if (!kinds.has(created)) unknown.push(created);
      }
    if (unknown.length)
      for (const [id, kind] of await this.settlements.planKinds(q, unknown)) kinds.set(id, kind);
    return list.map((ev) => {
      const defaultPlanId = defaultPlans.get(ev.accountId)!;
      const planId = isUuid(ev.planId) && kinds.has(ev.planId) ? ev.planId : defaultPlanId;
      const planKind = kinds.get(planId);
      if (!planKind) throw new Error(`default plan ${defaultPlanId} vanished`);
      return {
        ev,
        planId,
        planKind,
        chargedMicro: planKind === 'payg' ? ev.costMicroUsd : 0,
        startedAt: new Date(ev.startedAt),
      };
    });
  }
}

function windowsOf(accountId: string, planId: string, startedAt: Date): SpendWindowRef[] {
  return SpendWindowKinds.map((kind) => ({
    accountId,
    planId,
    kind,
    windowStart: spendWindow(kind, startedAt).start,
  }));
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
