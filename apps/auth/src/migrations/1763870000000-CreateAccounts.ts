import type { MigrationInterface, QueryRunner } from 'typeorm';

export class CreateAccounts1763870000000 implements MigrationInterface {
  name = 'CreateAccounts1763870000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE "auth"."accounts" (
        "id" uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        "email" text NOT NULL,
        "password_hash" text NOT NULL,
        "username" varchar(64),
        "role" varchar(16) NOT NULL DEFAULT 'user' CHECK ("role" IN ('user', 'admin')),
        "email_verified_at" timestamptz,
        "suspended_at" timestamptz,
        "session_epoch" integer NOT NULL DEFAULT 0,
        "created_at" timestamptz NOT NULL DEFAULT now(),
        "updated_at" timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT "accounts_email_key" UNIQUE ("email")
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE "auth"."accounts"`);
  }
}
