import type { MigrationInterface, QueryRunner } from 'typeorm';

/** The schema itself is created by the migration runner; this marks who owns it. */
export class InitUsageSchema1763870000000 implements MigrationInterface {
  name = 'InitUsageSchema1763870000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(
      `COMMENT ON SCHEMA "usage" IS 'Owned by the usage service; no other service reads or writes it.'`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`COMMENT ON SCHEMA "usage" IS NULL`);
  }
}
