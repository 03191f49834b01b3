import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Set (transaction-locally) only inside `billing.append_ledger_entries` while it applies its entries. */
const batchFlag = `current_setting('billing.applying_ledger_batch', true) = 'on'`;

/**
 * Usage settlement in batches: many BullMQ jobs (one per request id) settled in one Postgres transaction.
 *
 * - `billing.append_ledger_entries(...)` appends many ledger entries in one statement: it locks each
 *   account once (in id order), gives every new entry its balance_after as a running sum under that lock,
 *   inserts them, and moves each balance once by their sum (version + one per entry, as before). Entries
 *   whose idempotency key exists are skipped. The per-row ledger triggers (one row per statement: two
 *   account row writes per entry) stand aside while it runs, signalled by a transaction-local setting it
 *   sets and clears itself; every other insert still goes through them. Balance = sum of the ledger holds.
 * - `billing.key_spend_outbox`: what keys still has to be told of a key's spend, written in the settlement
 *   transaction and sent after the commit (deleted once keys has it). keys dedupes by `spend_id`, so a
 *   resend after a crash never counts twice; one row per key per batch instead of one call per request.
 * - `usage_settlements.key_spend_outboxed`: true when the row's transaction also queued the key's spend in
 *   the outbox. Rows settled before this migration (false) told keys per request id after their commit; a
 *   re-run of such an event tells keys again under that request id, as the old code did, so an event
 *   interrupted across the upgrade is neither lost nor counted twice on the key.
 */
export class BatchedSettlement1764500000000 implements MigrationInterface {
  name = 'BatchedSettlement1764500000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE OR REPLACE FUNCTION "billing"."ledger_entry_before_insert"() RETURNS trigger LANGUAGE plpgsql AS $$
      DECLARE current_balance bigint;
      BEGIN
        IF ${batchFlag} THEN
          RETURN NEW; -- append_ledger_entries computed balance_after under the account's lock
        END IF;
        SELECT "balance_micro" INTO current_balance FROM "billing"."accounts"
          WHERE "account_id" = NEW."account_id" FOR UPDATE;
        IF NOT FOUND THEN
          RAISE EXCEPTION 'billing account % does not exist', NEW."account_id";
        END IF;
        NEW."balance_after_micro" := current_balance + NEW."amount_micro";
        RETURN NEW;
      END $$`);
    await q.query(`
      CREATE OR REPLACE FUNCTION "billing"."ledger_entry_after_insert"() RETURNS trigger LANGUAGE plpgsql AS $$
      DECLARE new_balance bigint;
      BEGIN
        IF ${batchFlag} THEN
          RETURN NULL; -- append_ledger_entries moves the balance once per account
        END IF;
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
      CREATE OR REPLACE FUNCTION "billing"."balance_moves_only_through_ledger"() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF NEW."balance_micro" IS DISTINCT FROM OLD."balance_micro" AND pg_trigger_depth() < 2
           AND NOT coalesce(${batchFlag}, false) THEN
          RAISE EXCEPTION 'billing.accounts.balance_micro changes only through a ledger entry';
        END IF;
        RETURN NEW;
      END $$`);

    await q.query(`
      CREATE FUNCTION "billing"."append_ledger_entries"(
        "p_account_ids" uuid[],
        "p_kinds" varchar[],
        "p_amounts" bigint[],
        "p_idempotency_keys" varchar[],
        "p_request_hashes" varchar[],
        "p_references" varchar[],
        "p_notes" varchar[]
      ) RETURNS SETOF varchar LANGUAGE plpgsql AS $$
      DECLARE
        wanted integer;
        locked integer;
      BEGIN
        -- Each account once, in id order (concurrent batches take them in the same order): its balance
        -- cannot move until this transaction ends.
        SELECT count(DISTINCT a) INTO wanted FROM unnest("p_account_ids") AS a;
        SELECT count(*) INTO locked FROM (
          SELECT 1 FROM "billing"."accounts" WHERE "account_id" = ANY("p_account_ids")
          ORDER BY "account_id" FOR UPDATE
        ) AS l;
        IF locked <> wanted THEN
          RAISE EXCEPTION 'billing account does not exist (ledger entries for % accounts, % found)', wanted, locked;
        END IF;

        PERFORM set_config('billing.applying_ledger_batch', 'on', true);
        RETURN QUERY
          WITH "input" AS (
            SELECT * FROM unnest("p_account_ids", "p_kinds", "p_amounts", "p_idempotency_keys", "p_request_hashes",
              "p_references", "p_notes") WITH ORDINALITY
              AS t("account_id", "kind", "amount", "idempotency_key", "request_hash", "reference", "note", "ord")
          ),
          -- Keys used before (or twice in the input) are skipped: an entry is booked once, ever.
          "fresh" AS (
            SELECT DISTINCT ON (i."idempotency_key") i.* FROM "input" i
            WHERE NOT EXISTS (
              SELECT 1 FROM "billing"."ledger_entries" e WHERE e."idempotency_key" = i."idempotency_key"
            )
            ORDER BY i."idempotency_key", i."ord"
          ),
          "priced" AS (
            SELECT f.*, a."balance_micro" + sum(f."amount") OVER (PARTITION BY f."account_id" ORDER BY f."ord")
              AS "balance_after"
            FROM "fresh" f JOIN "billing"."accounts" a ON a."account_id" = f."account_id"
          ),
          "inserted" AS (
            INSERT INTO "billing"."ledger_entries" ("account_id", "kind", "amount_micro", "balance_after_micro",
              "idempotency_key", "request_hash", "reference", "note")
            SELECT "account_id", "kind", "amount", "balance_after", "idempotency_key", "request_hash", "reference",
              "note"
            FROM "priced" ORDER BY "ord"
            RETURNING "account_id", "amount_micro", "idempotency_key"
          ),
          "moved" AS (
            UPDATE "billing"."accounts" a
              SET "balance_micro" = a."balance_micro" + s."total", "version" = a."version" + s."entries",
                "updated_at" = now()
              FROM (
                SELECT "account_id", sum("amount_micro") AS "total", count(*) AS "entries" FROM "inserted"
                GROUP BY "account_id"
              ) s
              WHERE a."account_id" = s."account_id"
          )
          SELECT "idempotency_key" FROM "inserted";
        PERFORM set_config('billing.applying_ledger_batch', 'off', true);
      END $$`);

    await q.query(`
      CREATE TABLE "billing"."key_spend_outbox" (
        "spend_id" varchar(128) PRIMARY KEY,
        "key_id" uuid NOT NULL,
        "amount_micro" bigint NOT NULL CHECK ("amount_micro" > 0),
        "created_at" timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(
      `CREATE INDEX "key_spend_outbox_created_at_idx" ON "billing"."key_spend_outbox" ("created_at")`,
    );

    await q.query(
      `ALTER TABLE "billing"."usage_settlements" ADD COLUMN "key_spend_outboxed" boolean NOT NULL DEFAULT false`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE "billing"."usage_settlements" DROP COLUMN "key_spend_outboxed"`);
    await q.query(`DROP TABLE "billing"."key_spend_outbox"`);
    await q.query(
      `DROP FUNCTION "billing"."append_ledger_entries"(uuid[], varchar[], bigint[], varchar[], varchar[], varchar[], varchar[])`,
    );
    await q.query(`
      CREATE OR REPLACE FUNCTION "billing"."balance_moves_only_through_ledger"() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF NEW."balance_micro" IS DISTINCT FROM OLD."balance_micro" AND pg_trigger_depth() < 2 THEN
          RAISE EXCEPTION 'billing.accounts.balance_micro changes only through a ledger entry';
        END IF;
        RETURN NEW;
      END $$`);
    await q.query(`
      CREATE OR REPLACE FUNCTION "billing"."ledger_entry_after_insert"() RETURNS trigger LANGUAGE plpgsql AS $$
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
      CREATE OR REPLACE FUNCTION "billing"."ledger_entry_before_insert"() RETURNS trigger LANGUAGE plpgsql AS $$
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
  }
}
