import { Injectable } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';

/** Serialises partition DDL across replicas (and with the maintenance job). */
const PARTITION_LOCK_KEY = 'usage.request_logs.partitions';

const monthStart = (d: Date) => new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1));
const addMonths = (d: Date, n: number) => new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + n, 1));

/** `request_logs_p2025_01` holds January 2025 (UTC). */
export function partitionName(month: Date): string {
  return `request_logs_p${month.getUTCFullYear()}_${String(month.getUTCMonth() + 1).padStart(2, '0')}`;
}

function parsePartitionName(name: string): Date | null {
  const m = /^request_logs_p(\d{4})_(\d{2})$/.exec(name);
  return m ? new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, 1)) : null;
}

export interface MaintenanceResult {
  created: string[];
  dropped: string[];
  prunedHourlyRows: number;
}

/** Monthly partitions of `usage.request_logs`: creation ahead of time, and retention. */
@Injectable()
export class PartitionsRepository {
  /** Months this process has seen a partition for; a stale entry only costs one failed insert and a retry. */
  private readonly known = new Set<string>();

  constructor(private readonly dataSource: DataSource) {}

  /** Makes sure the month holding `at` has a partition (idempotent, safe across replicas). */
  async ensureMonth(at: Date): Promise<boolean> {
    const month = monthStart(at);
    const created = await this.dataSource.transaction(async (em) => {
      await this.lock(em);
      return this.createIfMissing(em, month);
    });
    this.known.add(partitionName(month));
    return created;
  }

  /** Like ensureMonth, but free when this process already knows the partition exists. */
  async ensureMonthKnown(at: Date): Promise<void> {
    if (!this.known.has(partitionName(monthStart(at)))) await this.ensureMonth(at);
  }

  /**
   * Creates the partitions for the months from `monthsBack` before `now` to `monthsAhead` after it, drops
   * the ones whose whole month ended before `cutoff`, and prunes hourly rollups older than `cutoff`
   * (daily rollups are kept). One transaction under an advisory lock: replicas take turns.
   */
  async maintain(now: Date, cutoff: Date, monthsBack = 1, monthsAhead = 2): Promise<MaintenanceResult> {
    return this.dataSource.transaction(async (em) => {
      await this.lock(em);
      const created: string[] = [];
      const start = monthStart(now);
      for (let i = -monthsBack; i <= monthsAhead; i++) {
        const month = addMonths(start, i);
        if (addMonths(month, 1) <= cutoff) continue;
        if (await this.createIfMissing(em, month)) created.push(partitionName(month));
      }
      const dropped: string[] = [];
      const present = await this.listPartitions(em);
      this.known.clear();
      for (const name of present) {
        const month = parsePartitionName(name);
        if (month && addMonths(month, 1) <= cutoff) {
          await em.query(`DROP TABLE "usage"."${name}"`);
          dropped.push(name);
        } else {
          this.known.add(name);
        }
      }
      const hourly: [unknown[], number] = await em.query(
        `DELETE FROM "usage"."usage_hourly" WHERE "hour" < $1`,
        [cutoff],
      );
      const channels: [unknown[], number] = await em.query(
        `DELETE FROM "usage"."usage_channel_hourly" WHERE "hour" < $1`,
        [cutoff],
      );
      return { created, dropped, prunedHourlyRows: hourly[1] + channels[1] };
    });
  }

  async listPartitionNames(): Promise<string[]> {
    return this.listPartitions(this.dataSource.manager);
  }

  private async listPartitions(em: EntityManager): Promise<string[]> {
    const rows: Array<{ name: string }> = await em.query(
      `SELECT c.relname AS name
         FROM pg_inherits i
         JOIN pg_class c ON c.oid = i.inhrelid
         JOIN pg_class p ON p.oid = i.inhparent
         JOIN pg_namespace n ON n.oid = p.relnamespace
        WHERE n.nspname = 'usage' AND p.relname = 'request_logs'
        ORDER BY c.relname`,
    );
    return rows.map((r) => r.name);
  }

  private async createIfMissing(em: EntityManager, month: Date): Promise<boolean> {
    const name = partitionName(month);
    const exists: unknown[] = await em.query(
      `SELECT 1 FROM pg_tables WHERE schemaname = 'usage' AND tablename = $1`,
      [name],
    );
    if (exists.length > 0) return false;
    // Bounds are literals we generate ourselves (DDL takes no parameters).
    await em.query(
      `CREATE TABLE "usage"."${name}" PARTITION OF "usage"."request_logs"
         FOR VALUES FROM ('${month.toISOString()}') TO ('${addMonths(month, 1).toISOString()}')`,
    );
    return true;
  }

  private async lock(em: EntityManager): Promise<void> {
    await em.query(`SELECT pg_advisory_xact_lock(hashtext($1))`, [PARTITION_LOCK_KEY]);
  }
}
