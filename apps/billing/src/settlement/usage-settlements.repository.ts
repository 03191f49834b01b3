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

  /**
   * In one round trip: the default plan of each account billing has a row for, and the kind of every
   * existing plan among `planIds` and those defaults (a plan's kind never changes).
   */
  async accountPlans(
    q: Sql,
    accountIds: string[],
    planIds: string[],
  ): Promise<{ defaultPlans: Map<string, string>; kinds: Map<string, PlanKind> }> {
    const defaultPlans = new Map<string, string>();
    const kinds = new Map<string, PlanKind>();
    if (!accountIds.length && !planIds.length) return { defaultPlans, kinds };
    const list = await rows<{ t: 'a' | 'p'; id: string; v: string }>(
      q,
      `SELECT 'a' AS "t", "account_id"::text AS "id", "default_plan_id"::text AS "v" FROM "billing"."accounts"
       WHERE "account_id" = ANY($1::uuid[])
       UNION ALL
       SELECT 'p', "id"::text, "kind"::text FROM "billing"."plans"
       WHERE "id" = ANY($2::uuid[])
         OR "id" IN (SELECT "default_plan_id" FROM "billing"."accounts" WHERE "account_id" = ANY($1::uuid[]))`,
      [accountIds, planIds],
    );
    for (const r of list) {
      if (r.t === 'a') defaultPlans.set(r.id, r.v);
      else kinds.set(r.id, r.v as PlanKind);
    }
    return { defaultPlans, kinds };
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

  /**
   * The batch's bookkeeping after its ledger entries, in ONE statement (one round trip): adds each key's
   * amount (one entry per key) to its settled spend and each window's amount (one entry per window) to its
   * spend, queues the key spend for keys (an id queued before is left as it is), and reads back the
   * counters Redis gets: the accounts' balances (as the ledger entries appended earlier in this
   * transaction left them), the spend of the keys and windows just added to (their new values, from
   * RETURNING) and of `alsoKeys`/`alsoWindows` (those read only: they must not be among the adds).
   * Upserts lock rows in primary-key order, as before.
   */
  async addSpendsAndReadCounters(
    q: Sql,
    args: {
      keyAdds: Array<{ keyId: string; accountId: string; amountMicro: number }>;
      windowAdds: Array<SpendWindowRef & { amountMicro: number }>;
      due: KeySpendDue[];
      accountIds: string[];
      alsoKeys: string[];
      alsoWindows: SpendWindowRef[];
    },
  ): Promise<{
    balances: Map<string, Pick<BillingAccount, 'accountId' | 'balanceMicro' | 'version'>>;
    keySpend: Map<string, Versioned>;
    windowSpend: Map<string, Versioned>;
  }> {
    const keyAdds = [...args.keyAdds].sort((a, b) => compare(a.keyId, b.keyId));
    const { windowAdds, due, alsoWindows } = args;
    const list = await rows<
      VersionedRow & {
        t: 'a' | 'k' | 'w';
        id: string;
        plan_id: string | null;
        kind: SpendWindowKind | null;
        window_start: Date | null;
      }
    >(
      q,
      `WITH "ks" AS (
         INSERT INTO "billing"."key_spend" ("key_id", "account_id", "spent_micro", "version")
         SELECT k, a, s, 1 FROM unnest($1::uuid[], $2::uuid[], $3::bigint[]) AS t(k, a, s) ORDER BY k
         ON CONFLICT ("key_id") DO UPDATE SET "spent_micro" = "key_spend"."spent_micro" + EXCLUDED."spent_micro",
           "version" = "key_spend"."version" + 1, "updated_at" = now()
         RETURNING "key_id", "spent_micro", "version"
       ), "ws" AS (
         INSERT INTO "billing"."window_spend" ("account_id", "plan_id", "kind", "window_start", "spent_micro", "version")
         SELECT a, p, k, w, s, 1
         FROM unnest($4::uuid[], $5::uuid[], $6::varchar[], $7::timestamptz[], $8::bigint[]) AS t(a, p, k, w, s)
         ORDER BY a, p, k, w
         ON CONFLICT ("account_id", "plan_id", "kind", "window_start") DO UPDATE
           SET "spent_micro" = "window_spend"."spent_micro" + EXCLUDED."spent_micro",
             "version" = "window_spend"."version" + 1
         RETURNING "account_id", "plan_id", "kind", "window_start", "spent_micro", "version"
       ), "outboxed" AS (
         INSERT INTO "billing"."key_spend_outbox" ("spend_id", "key_id", "amount_micro")
         SELECT * FROM unnest($9::varchar[], $10::uuid[], $11::bigint[])
         ON CONFLICT ("spend_id") DO NOTHING
       )
       SELECT 'a' AS "t", "account_id"::text AS "id", NULL AS "plan_id", NULL AS "kind",
         NULL::timestamptz AS "window_start", "balance_micro" AS "spent_micro", "version"
       FROM "billing"."accounts" WHERE "account_id" = ANY($12::uuid[])
       UNION ALL
       SELECT 'k', "key_id"::text, NULL, NULL, NULL, "spent_micro", "version" FROM "ks"
       UNION ALL
       SELECT 'k', "key_id"::text, NULL, NULL, NULL, "spent_micro", "version" FROM "billing"."key_spend"
       WHERE "key_id" = ANY($13::uuid[])
       UNION ALL
       SELECT 'w', "account_id"::text, "plan_id"::text, "kind", "window_start", "spent_micro", "version" FROM "ws"
       UNION ALL
       SELECT 'w', w."account_id"::text, w."plan_id"::text, w."kind", w."window_start", w."spent_micro", w."version"
       FROM unnest($14::uuid[], $15::uuid[], $16::varchar[], $17::timestamptz[]) AS t(a, p, k, s)
       JOIN "billing"."window_spend" w
         ON w."account_id" = t.a AND w."plan_id" = t.p AND w."kind" = t.k AND w."window_start" = t.s`,
      [
        keyAdds.map((a) => a.keyId),
        keyAdds.map((a) => a.accountId),
        keyAdds.map((a) => a.amountMicro),
        windowAdds.map((w) => w.accountId),
        windowAdds.map((w) => w.planId),
        windowAdds.map((w) => w.kind),
        windowAdds.map((w) => w.windowStart.toISOString()),
        windowAdds.map((w) => w.amountMicro),
        due.map((d) => d.spendId),
        due.map((d) => d.keyId),
        due.map((d) => d.amountMicro),
        args.accountIds,
        args.alsoKeys,
        alsoWindows.map((w) => w.accountId),
        alsoWindows.map((w) => w.planId),
        alsoWindows.map((w) => w.kind),
        alsoWindows.map((w) => w.windowStart.toISOString()),
      ],
    );
    const balances = new Map<string, Pick<BillingAccount, 'accountId' | 'balanceMicro' | 'version'>>();
    const keySpend = new Map<string, Versioned>();
    const windowSpend = new Map<string, Versioned>();
    for (const r of list) {
      if (r.t === 'a') {
        const v = toVersioned(r);
        balances.set(r.id, { accountId: r.id, balanceMicro: v.spentMicro, version: v.version });
      } else if (r.t === 'k') keySpend.set(r.id, toVersioned(r));
      else
        windowSpend.set(
          windowRefKey({ accountId: r.id, planId: r.plan_id!, kind: r.kind!, windowStart: r.window_start! }),
          toVersioned(r),
        );
    }
    return { balances, keySpend, windowSpend };
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
