import type { MigrationInterface, QueryRunner } from 'typeorm';

export class CreateApiKeys1763870000000 implements MigrationInterface {
  name = 'CreateApiKeys1763870000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE "keys"."api_keys" (
        "id" uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        "account_id" uuid NOT NULL,
        "name" varchar(100) NOT NULL,
        "key_hash" char(64) NOT NULL,
        "masked_key" varchar(32) NOT NULL,
        "status" varchar(16) NOT NULL DEFAULT 'active' CHECK ("status" IN ('active', 'disabled')),
        "expires_at" timestamptz,
        "created_at" timestamptz NOT NULL DEFAULT now(),
        "updated_at" timestamptz NOT NULL DEFAULT now(),
        "deleted_at" timestamptz,
        CONSTRAINT "api_keys_key_hash_key" UNIQUE ("key_hash")
      )`);
    await q.query(
      `CREATE INDEX "api_keys_account_id_idx" ON "keys"."api_keys" ("account_id") WHERE "deleted_at" IS NULL`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE "keys"."api_keys"`);
  }
}
