import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Plans, billing accounts, the ledger, subscriptions, orders and the settlement records.
 *
 * The ledger is the source of truth: an account's balance is changed ONLY by inserting a ledger entry
 * (a trigger applies it), entries are append-only, and each carries a unique idempotency key, so
 * "balance = sum of ledger" and "each top-up / usage event charged once" are enforced by the database.
 */
export class CreateBilling1763980000000 implements MigrationInterface {
  name = 'CreateBilling1763980000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE "billing"."plans" (
        "id" uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        "name" varchar(100) NOT NULL,
        "kind" varchar(16) NOT NULL CHECK ("kind" IN ('payg', 'subscription')),
        "models" text[] NOT NULL DEFAULT '{}',
        "price_micro" bigint NOT NULL DEFAULT 0 CHECK ("price_micro" >= 0),
        "period" varchar(8) CHECK ("period" IN ('day', 'week', 'month')),
        "daily_cap_micro" bigint NOT NULL DEFAULT 0 CHECK ("daily_cap_micro" >= 0),
        "weekly_cap_micro" bigint NOT NULL DEFAULT 0 CHECK ("weekly_cap_micro" >= 0),
        "monthly_cap_micro" bigint NOT NULL DEFAULT 0 CHECK ("monthly_cap_micro" >= 0),
        "default_key_limits" jsonb NOT NULL DEFAULT '{}',
        "price_multiplier_bp" integer NOT NULL DEFAULT 10000 CHECK ("price_multiplier_bp" > 0),
        "is_default" boolean NOT NULL DEFAULT false,
        "archived" boolean NOT NULL DEFAULT false,
        "created_at" timestamptz NOT NULL DEFAULT now(),
        "updated_at" timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT "plans_kind_fields_check" CHECK (
          ("kind" = 'subscription' AND "period" IS NOT NULL)
          OR ("kind" = 'payg' AND "period" IS NULL AND "price_micro" = 0)
        ),
        CONSTRAINT "plans_default_not_archived_check" CHECK (NOT ("is_default" AND "archived"))
      )`);
    await q.query(`CREATE UNIQUE INDEX "plans_name_key" ON "billing"."plans" (lower("name"))`);
    await q.query(
      `CREATE UNIQUE INDEX "plans_one_default_key" ON "billing"."plans" ("is_default") WHERE "is_default"`,
    );
    // Out of the box: pay-as-you-go over the whole catalog, the plan every new account gets.
    await q.query(
      `INSERT INTO "billing"."plans" ("name", "kind", "is_default") VALUES ('Pay as you go', 'payg', true)`,
    );

    await q.query(`
      CREATE TABLE "billing"."accounts" (
        "account_id" uuid PRIMARY KEY,
        "balance_micro" bigint NOT NULL DEFAULT 0,
        "version" bigint NOT NULL DEFAULT 0,
        "default_plan_id" uuid NOT NULL REFERENCES "billing"."plans" ("id"),
        "created_at" timestamptz NOT NULL DEFAULT now(),
        "updated_at" timestamptz NOT NULL DEFAULT now()
      )`);

    await q.query(`
      CREATE TABLE "billing"."ledger_entries" (
        "id" bigserial PRIMARY KEY,
        "account_id" uuid NOT NULL REFERENCES "billing"."accounts" ("account_id"),
        "kind" varchar(32) NOT NULL CHECK ("kind" IN (
          'topup', 'refund', 'refund_reversal', 'admin_credit', 'admin_debit', 'signup_credit', 'subscription_charge',
          'usage_charge'
        )),
        "amount_micro" bigint NOT NULL CHECK ("amount_micro" <> 0),
        "balance_after_micro" bigint NOT NULL,
        "idempotency_key" varchar(300) NOT NULL,
        "request_hash" char(64),
        "reference" varchar(300),
        "note" varchar(500),
        "created_at" timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT "ledger_entries_idempotency_key_key" UNIQUE ("idempotency_key")
      )`);
    await q.query(
      `CREATE INDEX "ledger_entries_account_id_idx" ON "billing"."ledger_entries" ("account_id", "id" DESC)`,
    );

    // balance_after is computed under the account's row lock; the balance moves only AFTER the row is
    // really inserted (an ON CONFLICT DO NOTHING that skips the row changes nothing).
    await q.query(`
      CREATE FUNCTION "billing"."ledger_entry_before_insert"() RETURNS trigger LANGUAGE plpgsql AS $$
      DECLARE current_balance bigint;
      BEGIN
        SELECT "balance_micro" INTO current_balance FROM "billing"."accounts"
          WHERE "account_id" = NEW."account_id" FOR UPDATE;
        IF NOT FOUND THEN
          RAISE EXCEPTION 'billing account % does not exist', NEW."account_id";
        END IF;
        NEW."balance_after_micro" := current_balance + NEW."amount_micro";
        RETURN NEW;
      END $$`);
    await q.query(`
      CREATE FUNCTION "billing"."ledger_entry_after_insert"() RETURNS trigger LANGUAGE plpgsql AS $$
      DECLARE new_balance bigint;
      BEGIN
        UPDATE "billing"."accounts"
          SET "balance_micro" = "balance_micro" + NEW."amount_micro", "version" = "version" + 1, "updated_at" = now()
          WHERE "account_id" = NEW."account_id"
          RETURNING "balance_micro" INTO new_balance;
        IF new_balance IS DISTINCT FROM NEW."balance_after_micro" THEN
          RAISE EXCEPTION 'ledger entries must be inserted one row per statement';
        END IF;
        RETURN NULL;
      END $$`);
    await q.query(`
      CREATE FUNCTION "billing"."ledger_is_append_only"() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        RAISE EXCEPTION 'billing.ledger_entries is append-only: correct with a new entry';
      END $$`);
    await q.query(`
      CREATE FUNCTION "billing"."balance_moves_only_through_ledger"() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF NEW."balance_micro" IS DISTINCT FROM OLD."balance_micro" AND pg_trigger_depth() < 2 THEN
          RAISE EXCEPTION 'billing.accounts.balance_micro changes only through a ledger entry';
        END IF;
        RETURN NEW;
      END $$`);
    await q.query(`
      CREATE TRIGGER "ledger_entries_before_insert" BEFORE INSERT ON "billing"."ledger_entries"
        FOR EACH ROW EXECUTE FUNCTION "billing"."ledger_entry_before_insert"()`);
    await q.query(`
      CREATE TRIGGER "ledger_entries_after_insert" AFTER INSERT ON "billing"."ledger_entries"
        FOR EACH ROW EXECUTE FUNCTION "billing"."ledger_entry_after_insert"()`);
    await q.query(`
      CREATE TRIGGER "ledger_entries_append_only" BEFORE UPDATE OR DELETE ON "billing"."ledger_entries"
        FOR EACH ROW EXECUTE FUNCTION "billing"."ledger_is_append_only"()`);
    await q.query(`
      CREATE TRIGGER "ledger_entries_no_truncate" BEFORE TRUNCATE ON "billing"."ledger_entries"
        FOR EACH STATEMENT EXECUTE FUNCTION "billing"."ledger_is_append_only"()`);
    await q.query(`
      CREATE TRIGGER "accounts_balance_through_ledger" BEFORE UPDATE ON "billing"."accounts"
        FOR EACH ROW EXECUTE FUNCTION "billing"."balance_moves_only_through_ledger"()`);

    await q.query(`
      CREATE TABLE "billing"."subscriptions" (
        "id" uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        "account_id" uuid NOT NULL REFERENCES "billing"."accounts" ("account_id"),
        "plan_id" uuid NOT NULL REFERENCES "billing"."plans" ("id"),
        "status" varchar(16) NOT NULL CHECK ("status" IN ('active', 'cancelled', 'expired', 'invalid')),
        "granted" boolean NOT NULL DEFAULT false,
        "cancel_at_period_end" boolean NOT NULL DEFAULT false,
        "current_period_start" timestamptz NOT NULL,
        "current_period_end" timestamptz NOT NULL,
        "ended_at" timestamptz,
        "end_reason" varchar(200),
        "created_at" timestamptz NOT NULL DEFAULT now(),
        "updated_at" timestamptz NOT NULL DEFAULT now(),
        CHECK ("current_period_end" > "current_period_start")
      )`);
    await q.query(
      `CREATE UNIQUE INDEX "subscriptions_one_active_key" ON "billing"."subscriptions" ("account_id", "plan_id") WHERE "status" = 'active'`,
    );
    await q.query(
      `CREATE INDEX "subscriptions_account_idx" ON "billing"."subscriptions" ("account_id", "created_at" DESC)`,
    );
    await q.query(
      `CREATE INDEX "subscriptions_due_idx" ON "billing"."subscriptions" ("current_period_end") WHERE "status" = 'active'`,
    );

    await q.query(`
      CREATE TABLE "billing"."orders" (
        "id" uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        "account_id" uuid NOT NULL REFERENCES "billing"."accounts" ("account_id"),
        "amount_micro" bigint NOT NULL CHECK ("amount_micro" > 0),
        "currency" char(3) NOT NULL DEFAULT 'usd',
        "status" varchar(16) NOT NULL CHECK ("status" IN (
          'pending', 'paid', 'failed', 'cancelled', 'expired', 'refund_pending', 'refunded'
        )),
        "checkout_session_id" varchar(255),
        "checkout_url" text,
        "payment_intent_id" varchar(255),
        "receipt_url" text,
        "credited_micro" bigint NOT NULL DEFAULT 0,
        "refunded_micro" bigint NOT NULL DEFAULT 0 CHECK ("refunded_micro" >= 0),
        "refund_id" varchar(255),
        "refund_attempt_id" uuid,
        "refund_reason" varchar(500),
        "failure_reason" varchar(500),
        "expires_at" timestamptz,
        "paid_at" timestamptz,
        "created_at" timestamptz NOT NULL DEFAULT now(),
        "updated_at" timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT "orders_checkout_session_id_key" UNIQUE ("checkout_session_id"),
        CHECK ("refunded_micro" <= "credited_micro")
      )`);
    await q.query(
      `CREATE INDEX "orders_account_idx" ON "billing"."orders" ("account_id", "created_at" DESC, "id" DESC)`,
    );

    // One row per settled usage event: the idempotency record for every plan kind (pay-as-you-go usage
    // also has its ledger entry `usage:<requestId>`; subscription usage only counts toward the caps).
    await q.query(`
      CREATE TABLE "billing"."usage_settlements" (
        "request_id" varchar(128) PRIMARY KEY,
        "account_id" uuid NOT NULL,
        "key_id" uuid NOT NULL,
        "plan_id" uuid NOT NULL,
        "plan_kind" varchar(16) NOT NULL,
        "cost_micro" bigint NOT NULL CHECK ("cost_micro" >= 0),
        "charged_micro" bigint NOT NULL CHECK ("charged_micro" >= 0),
        "usage_started_at" timestamptz NOT NULL,
        "usage_finished_at" timestamptz NOT NULL,
        "settled_at" timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(
      `CREATE INDEX "usage_settlements_account_idx" ON "billing"."usage_settlements" ("account_id", "settled_at")`,
    );

    await q.query(`
      CREATE TABLE "billing"."key_spend" (
        "key_id" uuid PRIMARY KEY,
        "account_id" uuid NOT NULL,
        "spent_micro" bigint NOT NULL DEFAULT 0 CHECK ("spent_micro" >= 0),
        "version" bigint NOT NULL DEFAULT 0,
        "updated_at" timestamptz NOT NULL DEFAULT now()
      )`);

    await q.query(`
      CREATE TABLE "billing"."window_spend" (
        "account_id" uuid NOT NULL,
        "plan_id" uuid NOT NULL,
        "kind" char(1) NOT NULL CHECK ("kind" IN ('d', 'w', 'm')),
        "window_start" timestamptz NOT NULL,
        "spent_micro" bigint NOT NULL DEFAULT 0 CHECK ("spent_micro" >= 0),
        "version" bigint NOT NULL DEFAULT 0,
        PRIMARY KEY ("account_id", "plan_id", "kind", "window_start")
      )`);
    await q.query(`CREATE INDEX "window_spend_start_idx" ON "billing"."window_spend" ("window_start")`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE "billing"."window_spend"`);
    await q.query(`DROP TABLE "billing"."key_spend"`);
    await q.query(`DROP TABLE "billing"."usage_settlements"`);
    await q.query(`DROP TABLE "billing"."orders"`);
    await q.query(`DROP TABLE "billing"."subscriptions"`);
    await q.query(`DROP TABLE "billing"."ledger_entries"`);
    await q.query(`DROP TABLE "billing"."accounts"`);
    await q.query(`DROP TABLE "billing"."plans"`);
    await q.query(`DROP FUNCTION "billing"."balance_moves_only_through_ledger"()`);
    await q.query(`DROP FUNCTION "billing"."ledger_is_append_only"()`);
    await q.query(`DROP FUNCTION "billing"."ledger_entry_after_insert"()`);
    await q.query(`DROP FUNCTION "billing"."ledger_entry_before_insert"()`);
  }
}
