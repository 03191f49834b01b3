import type { MigrationInterface, QueryRunner } from 'typeorm';

/** The schema itself is created by the migration runner; this marks who owns it. */
export class InitBillingSchema1763870000000 implements MigrationInterface {
  name = 'InitBillingSchema1763870000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(
      `COMMENT ON SCHEMA "billing" IS 'Owned by the billing service; no other service reads or writes it.'`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`COMMENT ON SCHEMA "billing" IS NULL`);
  }
}
