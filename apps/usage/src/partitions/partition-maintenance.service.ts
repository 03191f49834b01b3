import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnModuleDestroy,
} from '@nestjs/common';
import type { UsageConfig } from '@torouter/config';
import { APP_CONFIG } from '@torouter/service-runtime';
import { UsageMetrics } from '../metrics/usage-metrics';
import { PartitionsRepository, type MaintenanceResult } from './partitions.repository';

const DAY_MS = 86_400_000;

/**
 * Keeps `usage.request_logs` partitioned: the current month and the next two always exist (created at
 * start and every USAGE_MAINTENANCE_INTERVAL_MS), and a month is dropped once all of it is older than
 * USAGE_RETENTION_DAYS. Hourly rollups follow the same retention; daily rollups are kept.
 */
@Injectable()
export class PartitionMaintenanceService implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(PartitionMaintenanceService.name);
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<unknown> | null = null;

  constructor(
    @Inject(APP_CONFIG) private readonly config: UsageConfig,
    private readonly partitions: PartitionsRepository,
    private readonly metrics: UsageMetrics,
  ) {}

  onApplicationBootstrap(): void {
    this.timer = setInterval(
      () => void this.runOnce().catch(() => undefined),
      this.config.USAGE_MAINTENANCE_INTERVAL_MS,
    );
    this.timer.unref();
  }

  async onModuleDestroy(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.running?.catch(() => undefined);
  }

  /** The retention cutoff: raw rows (and hourly rollups) older than this go. */
  cutoff(now = new Date()): Date {
    return new Date(now.getTime() - this.config.USAGE_RETENTION_DAYS * DAY_MS);
  }

  async runOnce(now = new Date()): Promise<MaintenanceResult> {
    const run = this.partitions.maintain(now, this.cutoff(now));
    this.running = run;
    try {
      const result = await run;
      this.metrics.maintenanceRuns.inc({ result: 'ok' });
      this.metrics.partitions.set((await this.partitions.listPartitionNames()).length);
      if (result.created.length || result.dropped.length) {
        this.logger.log(
          `request-log partitions: created [${result.created.join(', ')}], dropped [${result.dropped.join(', ')}]`,
        );
      }
      return result;
    } catch (e) {
      this.metrics.maintenanceRuns.inc({ result: 'failed' });
      const err = e instanceof Error ? e : new Error(String(e));
      this.logger.error(`partition maintenance failed: ${err.message}`, err.stack);
      throw e;
    } finally {
      this.running = null;
    }
  }
}
