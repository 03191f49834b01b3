import { Injectable } from '@nestjs/common';
import type { SpendWindowKind } from '@torouter/contracts';
import { DataSource } from 'typeorm';
import { int, one, rows, type Sql } from '../database/sql';

export interface Versioned {
  spentMicro: number;
  version: number;
}

export interface WindowSpend extends Versioned {
  accountId: string;
  planId: string;
  kind: SpendWindowKind;
  windowStart: Date;
}

interface VersionedRow {
  spent_micro: string;
  version: string;
}

const toVersioned = (r: VersionedRow | undefined): Versioned =>
  r ? { spentMicro: int(r.spent_micro), version: int(r.version) } : { spentMicro: 0, version: 0 };

/**
 * Reads and single-row writes of `billing.key_spend` and `billing.window_spend` (batched settlement
 * writes them too, in `usage-settlements.repository.ts`).
 */
@Injectable()
export class SpendRepository {
  constructor(private readonly dataSource: DataSource) {}

  async addKeySpend(q: Sql, keyId: string, accountId: string, amountMicro: number): Promise<Versioned> {
    const r = await one<VersionedRow>(
      q,
      `INSERT INTO "billing"."key_spend" ("key_id", "account_id", "spent_micro", "version") VALUES ($1, $2, $3, 1)
       ON CONFLICT ("key_id") DO UPDATE SET "spent_micro" = "key_spend"."spent_micro" + EXCLUDED."spent_micro",
         "version" = "key_spend"."version" + 1, "updated_at" = now()
       RETURNING "spent_micro", "version"`,
      [keyId, accountId, amountMicro],
    );
    return toVersioned(r);
  }

  /** Starts a key's spend at `spentMicro` unless billing has a row for it already. */
  async seedKeySpend(keyId: string, accountId: string, spentMicro: number): Promise<void> {
    await this.dataSource.query(
      `INSERT INTO "billing"."key_spend" ("key_id", "account_id", "spent_micro", "version") VALUES ($1, $2, $3, 1)
       ON CONFLICT ("key_id") DO NOTHING`,
      [keyId, accountId, spentMicro],
    );
  }

  async keySpend(keyId: string, q: Sql = this.dataSource): Promise<Versioned> {
    return toVersioned(
      await one<VersionedRow>(
        q,
        `SELECT "spent_micro", "version" FROM "billing"."key_spend" WHERE "key_id" = $1`,
        [keyId],
      ),
    );
  }

  async addWindowSpend(
    q: Sql,
    w: { accountId: string; planId: string; kind: SpendWindowKind; windowStart: Date },
    amountMicro: number,
  ): Promise<Versioned> {
    const r = await one<VersionedRow>(
      q,
      `INSERT INTO "billing"."window_spend" ("account_id", "plan_id", "kind", "window_start", "spent_micro", "version")
       VALUES ($1, $2, $3, $4, $5, 1)
       ON CONFLICT ("account_id", "plan_id", "kind", "window_start") DO UPDATE
         SET "spent_micro" = "window_spend"."spent_micro" + EXCLUDED."spent_micro", "version" = "window_spend"."version" + 1
       RETURNING "spent_micro", "version"`,
      [w.accountId, w.planId, w.kind, w.windowStart, amountMicro],
    );
    return toVersioned(r);
  }

  async windowSpend(
    w: { accountId: string; planId: string; kind: SpendWindowKind; windowStart: Date },
    q: Sql = this.dataSource,
  ): Promise<Versioned> {
    return toVersioned(
      await one<VersionedRow>(
        q,
        `SELECT "spent_micro", "version" FROM "billing"."window_spend"
         WHERE "account_id" = $1 AND "plan_id" = $2 AND "kind" = $3 AND "window_start" = $4`,
        [w.accountId, w.planId, w.kind, w.windowStart],
      ),
    );
  }

  async *allKeySpend(batch = 1000): AsyncGenerator<Array<Versioned & { keyId: string }>> {
    let after = '00000000-0000-0000-0000-000000000000';
    for (;;) {
      const list = await rows<VersionedRow & { key_id: string }>(
        this.dataSource,
        `SELECT "key_id", "spent_micro", "version" FROM "billing"."key_spend" WHERE "key_id" > $1 ORDER BY "key_id" LIMIT $2`,
        [after, batch],
      );
      if (!list.length) return;
      yield list.map((r) => ({ keyId: r.key_id, ...toVersioned(r) }));
      after = list[list.length - 1].key_id;
    }
  }

  /** Window rows whose window may still be open (the month window is the longest). */
  async *recentWindows(since: Date, batch = 1000): AsyncGenerator<WindowSpend[]> {
    let offset = 0;
    for (;;) {
      const list = await rows<
        VersionedRow & { account_id: string; plan_id: string; kind: SpendWindowKind; window_start: Date }
      >(
        this.dataSource,
        `SELECT "account_id", "plan_id", "kind", "window_start", "spent_micro", "version" FROM "billing"."window_spend"
         WHERE "window_start" >= $1 ORDER BY "account_id", "plan_id", "kind", "window_start" LIMIT $2 OFFSET $3`,
        [since, batch, offset],
      );
      if (!list.length) return;
      yield list.map((r) => ({
        accountId: r.account_id,
        planId: r.plan_id,
        kind: r.kind,
        windowStart: r.window_start,
        ...toVersioned(r),
      }));
      offset += list.length;
    }
  }
}
