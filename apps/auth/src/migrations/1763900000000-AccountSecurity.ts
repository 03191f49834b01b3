import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Two-factor (TOTP) columns, single-use tokens (verification, reset, email codes) and recovery codes. */
export class AccountSecurity1763900000000 implements MigrationInterface {
  name = 'AccountSecurity1763900000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      ALTER TABLE "auth"."accounts"
        ADD COLUMN "totp_secret_enc" text,
        ADD COLUMN "totp_enabled_at" timestamptz,
        ADD COLUMN "totp_last_step" integer,
        ADD CONSTRAINT "accounts_totp_enabled_has_secret"
          CHECK ("totp_enabled_at" IS NULL OR "totp_secret_enc" IS NOT NULL)`);
    await q.query(
      `CREATE INDEX "accounts_created_at_id_idx" ON "auth"."accounts" ("created_at" DESC, "id" DESC)`,
    );
    await q.query(`
      CREATE TABLE "auth"."one_time_tokens" (
        "id" uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        "account_id" uuid NOT NULL REFERENCES "auth"."accounts" ("id") ON DELETE CASCADE,
        "purpose" varchar(32) NOT NULL
          CHECK ("purpose" IN ('verify_email', 'reset_password', 'totp_email_code')),
        "token_hash" char(64) NOT NULL,
        "expires_at" timestamptz NOT NULL,
        "used_at" timestamptz,
        "failed_attempts" integer NOT NULL DEFAULT 0,
        "created_at" timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT "one_time_tokens_token_hash_key" UNIQUE ("token_hash")
      )`);
    await q.query(
      `CREATE INDEX "one_time_tokens_account_purpose_idx" ON "auth"."one_time_tokens" ("account_id", "purpose")`,
    );
    await q.query(`
      CREATE TABLE "auth"."recovery_codes" (
        "id" uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        "account_id" uuid NOT NULL REFERENCES "auth"."accounts" ("id") ON DELETE CASCADE,
        "code_hash" char(64) NOT NULL,
        "used_at" timestamptz,
        "created_at" timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT "recovery_codes_account_code_key" UNIQUE ("account_id", "code_hash")
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE "auth"."recovery_codes"`);
    await q.query(`DROP TABLE "auth"."one_time_tokens"`);
    await q.query(`DROP INDEX "auth"."accounts_created_at_id_idx"`);
    await q.query(`
      ALTER TABLE "auth"."accounts"
        DROP CONSTRAINT "accounts_totp_enabled_has_secret",
        DROP COLUMN "totp_last_step",
        DROP COLUMN "totp_enabled_at",
        DROP COLUMN "totp_secret_enc"`);
  }
}
