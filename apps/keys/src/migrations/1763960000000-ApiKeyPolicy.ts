import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Per-key policy (plan, spend cap, windows, RPM/TPM, IP and model lists), rotation, last use, spend. */
export class ApiKeyPolicy1763960000000 implements MigrationInterface {
  name = 'ApiKeyPolicy1763960000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      ALTER TABLE "keys"."api_keys"
        ADD COLUMN "plan_id" varchar(100),
        ADD COLUMN "quota_micro_usd" bigint NOT NULL DEFAULT 0 CHECK ("quota_micro_usd" >= 0),
        ADD COLUMN "spent_micro_usd" bigint NOT NULL DEFAULT 0 CHECK ("spent_micro_usd" >= 0),
        ADD COLUMN "per_5h" integer NOT NULL DEFAULT 0 CHECK ("per_5h" >= 0),
        ADD COLUMN "per_1d" integer NOT NULL DEFAULT 0 CHECK ("per_1d" >= 0),
        ADD COLUMN "per_7d" integer NOT NULL DEFAULT 0 CHECK ("per_7d" >= 0),
        ADD COLUMN "rpm" integer NOT NULL DEFAULT 0 CHECK ("rpm" >= 0),
        ADD COLUMN "tpm" bigint NOT NULL DEFAULT 0 CHECK ("tpm" >= 0),
        ADD COLUMN "ip_whitelist" text[] NOT NULL DEFAULT '{}',
        ADD COLUMN "ip_blacklist" text[] NOT NULL DEFAULT '{}',
        ADD COLUMN "model_whitelist" text[] NOT NULL DEFAULT '{}',
        ADD COLUMN "limits_id" uuid,
        ADD COLUMN "rotated_from_id" uuid,
        ADD COLUMN "delete_at" timestamptz,
        ADD COLUMN "last_used_at" timestamptz,
        ADD COLUMN "last_used_ip" varchar(64)`);
    await q.query(`UPDATE "keys"."api_keys" SET "limits_id" = "id"`);
    await q.query(`ALTER TABLE "keys"."api_keys" ALTER COLUMN "limits_id" SET NOT NULL`);
    await q.query(
      `CREATE INDEX "api_keys_delete_at_idx" ON "keys"."api_keys" ("delete_at") WHERE "delete_at" IS NOT NULL AND "deleted_at" IS NULL`,
    );
    // One row per settled request: makes keys.api-key.spend.add.v1 idempotent (pruned after 7 days).
    await q.query(`
      CREATE TABLE "keys"."api_key_spend_entries" (
        "request_id" varchar(128) PRIMARY KEY,
        "key_id" uuid NOT NULL REFERENCES "keys"."api_keys" ("id"),
        "amount_micro_usd" bigint NOT NULL CHECK ("amount_micro_usd" >= 0),
        "created_at" timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(
      `CREATE INDEX "api_key_spend_entries_created_at_idx" ON "keys"."api_key_spend_entries" ("created_at")`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE "keys"."api_key_spend_entries"`);
    await q.query(`DROP INDEX "keys"."api_keys_delete_at_idx"`);
    await q.query(`
      ALTER TABLE "keys"."api_keys"
        DROP COLUMN "plan_id", DROP COLUMN "quota_micro_usd", DROP COLUMN "spent_micro_usd",
        DROP COLUMN "per_5h", DROP COLUMN "per_1d", DROP COLUMN "per_7d", DROP COLUMN "rpm", DROP COLUMN "tpm",
        DROP COLUMN "ip_whitelist", DROP COLUMN "ip_blacklist", DROP COLUMN "model_whitelist",
        DROP COLUMN "limits_id", DROP COLUMN "rotated_from_id", DROP COLUMN "delete_at",
        DROP COLUMN "last_used_at", DROP COLUMN "last_used_ip"`);
  }
}
