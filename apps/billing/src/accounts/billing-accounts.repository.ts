import { Inject, Injectable } from '@nestjs/common';
import type { BillingConfig } from '@torouter/config';
import { usdToMicro } from '@torouter/money';
import { APP_CONFIG } from '@torouter/service-runtime';
import { DataSource } from 'typeorm';
import { int, one, rows, transaction, type Sql } from '../database/sql';

export interface BillingAccount {
  accountId: string;
  balanceMicro: number;
  /** Bumped by every balance change: the Redis copy only ever moves to a newer version. */
  version: number;
  defaultPlanId: string;
}

interface AccountRow {
  account_id: string;
  balance_micro: string;
  version: string;
  default_plan_id: string;
}

const toAccount = (r: AccountRow): BillingAccount => ({
  accountId: r.account_id,
  balanceMicro: int(r.balance_micro),
  version: int(r.version),
  defaultPlanId: r.default_plan_id,
});

/**
 * Account rows of `billing.accounts` (batched settlement also reads and locks them, in
 * `usage-settlements.repository.ts`). An account (owned by auth) gets its billing row the first time
 * billing hears of it, with the default plan in force at that moment and, when configured,
 * the signup credit (a ledger entry `signup:<accountId>`, so it is given once).
 */
@Injectable()
export class BillingAccountsRepository {
  private readonly signupCreditMicro: number;

  constructor(
    private readonly dataSource: DataSource,
    @Inject(APP_CONFIG) config: BillingConfig,
  ) {
    this.signupCreditMicro = usdToMicro(config.BILLING_SIGNUP_CREDIT_USD);
  }

  async ensure(accountId: string, q?: Sql): Promise<BillingAccount> {
    const known = await this.find(accountId, q);
    if (known) return known;
    if (q) return this.create(q, accountId);
    return transaction(this.dataSource, (t) => this.create(t, accountId));
  }

  private async create(q: Sql, accountId: string): Promise<BillingAccount> {
    const created = await rows<{ account_id: string }>(
      q,
      `INSERT INTO "billing"."accounts" ("account_id", "default_plan_id")
       SELECT $1, "id" FROM "billing"."plans" WHERE "is_default"
       ON CONFLICT ("account_id") DO NOTHING RETURNING "account_id"`,
      [accountId],
    );
    if (created.length && this.signupCreditMicro > 0) {
      await q.query(
        `INSERT INTO "billing"."ledger_entries" ("account_id", "kind", "amount_micro", "balance_after_micro", "idempotency_key", "note")
         VALUES ($1, 'signup_credit', $2, 0, $3, 'welcome credit') ON CONFLICT ("idempotency_key") DO NOTHING`,
        [accountId, this.signupCreditMicro, `signup:${accountId}`],
      );
    }
    return (await this.find(accountId, q))!;
  }

  async find(accountId: string, q: Sql = this.dataSource): Promise<BillingAccount | null> {
    const r = await one<AccountRow>(
      q,
      `SELECT "account_id", "balance_micro", "version", "default_plan_id" FROM "billing"."accounts" WHERE "account_id" = $1`,
      [accountId],
    );
    return r ? toAccount(r) : null;
  }

  /** Ensures the row and locks it for the rest of the caller's transaction. */
  async lock(q: Sql, accountId: string): Promise<BillingAccount> {
    await this.ensure(accountId, q);
    const r = await one<AccountRow>(
      q,
      `SELECT "account_id", "balance_micro", "version", "default_plan_id" FROM "billing"."accounts"
       WHERE "account_id" = $1 FOR UPDATE`,
      [accountId],
    );
    return toAccount(r!);
  }

  /** Every account, in batches (Redis rebuild at start). */
  async *all(batch = 1000): AsyncGenerator<BillingAccount[]> {
    let after = '00000000-0000-0000-0000-000000000000';
    for (;;) {
      const list = await rows<AccountRow>(
        this.dataSource,
        `SELECT "account_id", "balance_micro", "version", "default_plan_id" FROM "billing"."accounts"
         WHERE "account_id" > $1 ORDER BY "account_id" LIMIT $2`,
        [after, batch],
      );
      if (!list.length) return;
      yield list.map(toAccount);
      after = list[list.length - 1].account_id;
    }
  }
}
