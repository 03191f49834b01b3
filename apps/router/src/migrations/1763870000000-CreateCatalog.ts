import type { MigrationInterface, QueryRunner } from 'typeorm';

export class CreateCatalog1763870000000 implements MigrationInterface {
  name = 'CreateCatalog1763870000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE "router"."channels" (
        "id" uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        "name" varchar(100) NOT NULL,
        "type" varchar(32) NOT NULL,
        "base_url" text,
        "credentials_encrypted" text,
        "models" text[] NOT NULL DEFAULT '{}',
        "model_mapping" jsonb NOT NULL DEFAULT '{}',
        "priority" integer NOT NULL DEFAULT 0,
        "weight" integer NOT NULL DEFAULT 1 CHECK ("weight" >= 0),
        "plans" text[] NOT NULL DEFAULT '{}',
        "enabled" boolean NOT NULL DEFAULT true,
        "timeouts" jsonb NOT NULL DEFAULT '{}',
        "created_at" timestamptz NOT NULL DEFAULT now(),
        "updated_at" timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT "channels_name_key" UNIQUE ("name")
      )`);
    await q.query(`
      CREATE TABLE "router"."models" (
        "id" varchar(200) PRIMARY KEY,
        "vendor" varchar(64) NOT NULL,
        "modality" varchar(32) NOT NULL,
        "input_micro_usd_per_mtok" bigint NOT NULL CHECK ("input_micro_usd_per_mtok" >= 0),
        "output_micro_usd_per_mtok" bigint NOT NULL CHECK ("output_micro_usd_per_mtok" >= 0),
        "cache_read_micro_usd_per_mtok" bigint CHECK ("cache_read_micro_usd_per_mtok" >= 0),
        "cache_write_5m_micro_usd_per_mtok" bigint CHECK ("cache_write_5m_micro_usd_per_mtok" >= 0),
        "cache_write_1h_micro_usd_per_mtok" bigint CHECK ("cache_write_1h_micro_usd_per_mtok" >= 0),
        "per_request_micro_usd" bigint CHECK ("per_request_micro_usd" >= 0),
        "context_window" integer,
        "max_output_tokens" integer,
        "supports_thinking" boolean NOT NULL DEFAULT false,
        "created_at" timestamptz NOT NULL DEFAULT now(),
        "updated_at" timestamptz NOT NULL DEFAULT now()
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE "router"."models"`);
    await q.query(`DROP TABLE "router"."channels"`);
  }
}
