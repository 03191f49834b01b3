import { Injectable } from '@nestjs/common';
import type { PlanKind, SpendWindowKind } from '@torouter/contracts';
import { DataSource } from 'typeorm';
import type { BillingAccount } from '../accounts/billing-accounts.repository';
import { int, rows, type Sql } from '../database/sql';
import type { Versioned } from '../spend-state/spend.repository';

export interface NewSettlement {
  requestId: string;
  accountId: string;
  keyId: string;
  planId: string;
  planKind: PlanKind;
  costMicro: number;
  chargedMicro: number;
  startedAt: Date;
  finishedAt: Date;
}

export interface RecordedSettlement {
  planId: string;
  keyId: string;
  costMicro: number;
  /** False for rows settled before key spend went through `billing.key_spend_outbox`. */
  keySpendOutboxed: boolean;
}

export interface SpendWindowRef {
  accountId: string;
  planId: string;
  kind: SpendWindowKind;
  windowStart: Date;
}

export interface KeySpendDue {
  /** What keys dedupes on (its `requestId`): never reused for another amount. */
  spendId: string;
  keyId: string;
  amountMicro: number;
}

/** One identity for a spend window across Postgres rows and JavaScript values. */
export const windowRefKey = (w: SpendWindowRef): string =>
  `${w.accountId}|${w.planId}|${w.kind}|${w.windowStart.getTime()}`;

interface VersionedRow {
  spent_micro: string;
  version: string;
}

const toVersioned = (r: VersionedRow): Versioned => ({
  spentMicro: int(r.spent_micro),
  version: int(r.version),
});

/**
 * The settlement's set-based SQL, each statement covering a whole batch of usage events (so a batch costs
 * a fixed number of round trips, not a number per event): `billing.usage_settlements` (one row per settled
 * request, forever: the idempotency record), the batch's key and window spend, the counters it reads back
 * for Redis, and `billing.key_spend_outbox`. Multi-row writes lock rows in primary-key order, so two
 * batches settling concurrently cannot deadlock on each other.
 */
@Injectable()
export class UsageSettlementsRepository {
  constructor(private readonly dataSource: DataSource) {}

  /** Inserts the rows not settled before; returns the request ids really inserted. */
  async insertMany(q: Sql, list: NewSettlement[]): Promise<Set<string>> {
    if (!list.length) return new Set();
    const sorted = [...list].sort((a, b) => compare(a.requestId, b.requestId));
    const inserted = await rows<{ request_id: string }>(
      q,
      `INSERT INTO "billing"."usage_settlements" ("request_id", "account_id", "key_id", "plan_id", "plan_kind",
         "cost_micro", "charged_micro", "usage_started_at", "usage_finished_at", "key_spend_outboxed")
       SELECT r, a, k, p, pk, c, ch, s, f, true
       FROM unnest($1::varchar[], $2::uuid[], $3::uuid[], $4::uuid[], $5::varchar[], $6::bigint[], $7::bigint[],
         $8::timestamptz[], $9::timestamptz[]) AS t(r, a, k, p, pk, c, ch, s, f)
       ORDER BY r
       ON CONFLICT ("request_id") DO NOTHING RETURNING "request_id"`,
      [
        sorted.map((s) => s.requestId),
        sorted.map((s) => s.accountId),
        sorted.map((s) => s.keyId),
        sorted.map((s) => s.planId),
        sorted.map((s) => s.planKind),
        sorted.map((s) => s.costMicro),
        sorted.map((s) => s.chargedMicro),
        sorted.map((s) => s.startedAt.toISOString()),
        sorted.map((s) => s.finishedAt.toISOString()),
      ],
    );
    return new Set(inserted.map((r) => r.request_id));
  }

  async findMany(q: Sql, requestIds: string[]): Promise<Map<string, RecordedSettlement>> {
    const found = new Map<string, RecordedSettlement>();
    if (!requestIds.length) return found;
    const list = await rows<{
      request_id: string;
      plan_id: string;
      key_id: string;
      cost_micro: string;
      key_spend_outboxed: boolean;
    }>(
      q,
      `SELECT "request_id", "plan_id", "key_id", "cost_micro", "key_spend_outboxed" FROM "billing"."usage_settlements"
       WHERE "request_id" = ANY($1::varchar[])`,
      [requestIds],
    );
    for (const r of list)
      found.set(r.request_id, {
        planId: r.plan_id,
        keyId: r.key_id,
        costMicro: int(r.cost_micro),
        keySpendOutboxed: r.key_spend_outboxed,
      });
    return found;
  }

  /** Billing accounts by id (those billing has a row for). */
  async accounts(q: Sql, accountIds: string[]): Promise<Map<string, BillingAccount>> {
    const found = new Map<string, BillingAccount>();
    if (!accountIds.length) return found;
    const list = await rows<{
      account_id: string;
      balance_micro: string;
      version: string;
      default_plan_id: string;
    }>(
      q,
      `SELECT "account_id", "balance_micro", "version", "default_plan_id" FROM "billing"."accounts"
       WHERE "account_id" = ANY($1::uuid[])`,
      [accountIds],
    );
    for (const r of list)
      found.set(r.account_id, {
        accountId: r.account_id,
        balanceMicro: int(r.balance_micro),
        version: int(r.version),
        defaultPlanId: r.default_plan_id,
      });
    return found;
  }

  /** The kind of each existing plan among `planIds` (a plan's kind never changes). */
  async planKinds(q: Sql, planIds: string[]): Promise<Map<string, PlanKind>> {
    const found = new Map<string, PlanKind>();
    if (!planIds.length) return found;
    const list = await rows<{ id: string; kind: PlanKind }>(
      q,
      `SELECT "id", "kind" FROM "billing"."plans" WHERE "id" = ANY($1::uuid[])`,
      [planIds],
    );
    for (const r of list) found.set(r.id, r.kind);
    return found;
  }

  /** Adds each key's amount (one entry per key) to its settled spend. */
  async addKeySpends(
    q: Sql,
    adds: Array<{ keyId: string; accountId: string; amountMicro: number }>,
  ): Promise<void> {
    if (!adds.length) return;
    const sorted = [...adds].sort((a, b) => compare(a.keyId, b.keyId));
    await q.query(
      `INSERT INTO "billing"."key_spend" ("key_id", "account_id", "spent_micro", "version")
       SELECT k, a, s, 1 FROM unnest($1::uuid[], $2::uuid[], $3::bigint[]) AS t(k, a, s) ORDER BY k
       ON CONFLICT ("key_id") DO UPDATE SET "spent_micro" = "key_spend"."spent_micro" + EXCLUDED."spent_micro",
         "version" = "key_spend"."version" + 1, "updated_at" = now()`,
      [sorted.map((a) => a.keyId), sorted.map((a) => a.accountId), sorted.map((a) => a.amountMicro)],
    );
  }

  /** Adds each window's amount (one entry per window) to its spend. */
  async addWindowSpends(q: Sql, adds: Array<SpendWindowRef & { amountMicro: number }>): Promise<void> {
    if (!adds.length) return;
    await q.query(
      `INSERT INTO "billing"."window_spend" ("account_id", "plan_id", "kind", "window_start", "spent_micro", "version")
       SELECT a, p, k, w, s, 1
       FROM unnest($1::uuid[], $2::uuid[], $3::varchar[], $4::timestamptz[], $5::bigint[]) AS t(a, p, k, w, s)
       ORDER BY a, p, k, w
       ON CONFLICT ("account_id", "plan_id", "kind", "window_start") DO UPDATE
         SET "spent_micro" = "window_spend"."spent_micro" + EXCLUDED."spent_micro",
           "version" = "window_spend"."version" + 1`,
      [
        adds.map((w) => w.accountId),
        adds.map((w) => w.planId),
        adds.map((w) => w.kind),
        adds.map((w) => w.windowStart.toISOString()),
        adds.map((w) => w.amountMicro),
      ],
    );
  }

  /** Settled spend per key; keys billing has no row for are absent. */
  async keySpends(q: Sql, keyIds: string[]): Promise<Map<string, Versioned>> {
    const found = new Map<string, Versioned>();
    if (!keyIds.length) return found;
    const list = await rows<VersionedRow & { key_id: string }>(
      q,
      `SELECT "key_id", "spent_micro", "version" FROM "billing"."key_spend" WHERE "key_id" = ANY($1::uuid[])`,
      [keyIds],
    );
    for (const r of list) found.set(r.key_id, toVersioned(r));
    return found;
  }

  /** Spend per window (by `windowRefKey`); windows without a row are absent. */
  async windowSpends(q: Sql, windows: SpendWindowRef[]): Promise<Map<string, Versioned>> {
    const found = new Map<string, Versioned>();
    if (!windows.length) return found;
    const list = await rows<
      VersionedRow & { account_id: string; plan_id: string; kind: SpendWindowKind; window_start: Date }
    >(
      q,
      `SELECT w."account_id", w."plan_id", w."kind", w."window_start", w."spent_micro", w."version"
       FROM unnest($1::uuid[], $2::uuid[], $3::varchar[], $4::timestamptz[]) AS t(a, p, k, s)
       JOIN "billing"."window_spend" w
         ON w."account_id" = t.a AND w."plan_id" = t.p AND w."kind" = t.k AND w."window_start" = t.s`,
      [
        windows.map((w) => w.accountId),
        windows.map((w) => w.planId),
        windows.map((w) => w.kind),
        windows.map((w) => w.windowStart.toISOString()),
      ],
    );
    for (const r of list)
      found.set(
        windowRefKey({
          accountId: r.account_id,
          planId: r.plan_id,
          kind: r.kind,
          windowStart: r.window_start,
        }),
        toVersioned(r),
      );
    return found;
  }

  /** Queues key spend for keys (in the caller's transaction); an id queued before is left as it is. */
  async queueKeySpends(q: Sql, due: KeySpendDue[]): Promise<void> {
    if (!due.length) return;
    await q.query(
      `INSERT INTO "billing"."key_spend_outbox" ("spend_id", "key_id", "amount_micro")
       SELECT * FROM unnest($1::varchar[], $2::uuid[], $3::bigint[])
       ON CONFLICT ("spend_id") DO NOTHING`,
      [due.map((d) => d.spendId), due.map((d) => d.keyId), due.map((d) => d.amountMicro)],
    );
  }

  /** The oldest key spend keys has not confirmed yet. */
  async dueKeySpends(limit: number): Promise<KeySpendDue[]> {
    const list = await rows<{ spend_id: string; key_id: string; amount_micro: string }>(
      this.dataSource,
      `SELECT "spend_id", "key_id", "amount_micro" FROM "billing"."key_spend_outbox" ORDER BY "created_at" LIMIT $1`,
      [limit],
    );
    return list.map((r) => ({ spendId: r.spend_id, keyId: r.key_id, amountMicro: int(r.amount_micro) }));
  }

  async deleteKeySpends(spendIds: string[]): Promise<void> {
    if (!spendIds.length) return;
    await this.dataSource.query(
      `DELETE FROM "billing"."key_spend_outbox" WHERE "spend_id" = ANY($1::varchar[])`,
      [spendIds],
    );
  }
}

/** Code-unit order, the same for every process (a stable lock order; not locale-dependent). */
function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
