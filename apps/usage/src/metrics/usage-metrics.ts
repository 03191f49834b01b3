import { Inject, Injectable } from '@nestjs/common';
import {
  connectionMetrics,
  databasePoolMetrics,
  DURATION_BUCKETS_SECONDS,
  eventPipelineMetrics,
  OVERHEAD_BUCKETS_SECONDS,
} from '@torouter/observability';
import { METRICS_REGISTRY } from '@torouter/service-runtime';
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

/** The usage service's metrics: the shared event-pipeline set plus its own queries and exports. */
@Injectable()
export class UsageMetrics {
  readonly pipeline: ReturnType<typeof eventPipelineMetrics>;
  /** torouter_usage_query_duration_seconds{query}; query = logs|summary|dashboard|channels */
  readonly queryDuration: Histogram<'query'>;
  /** torouter_usage_export_rows_total: rows written into CSV exports (all exports). */
  readonly exportRows: Counter;
  /** torouter_usage_exports_total{result}; result = completed|aborted|failed|refused */
  readonly exports: Counter<'result'>;
  /** torouter_usage_exports_in_progress */
  readonly exportsInProgress: Gauge;
  /** torouter_usage_partitions: monthly request-log partitions present. */
  readonly partitions: Gauge;
  /** torouter_usage_partition_maintenance_total{result}; result = ok|failed */
  readonly maintenanceRuns: Counter<'result'>;
  readonly connections: ReturnType<typeof connectionMetrics>;
  readonly dbPool: ReturnType<typeof databasePoolMetrics>;

  constructor(@Inject(METRICS_REGISTRY) registry: Registry) {
    this.pipeline = eventPipelineMetrics(registry);
    this.connections = connectionMetrics(registry);
    this.dbPool = databasePoolMetrics(registry);
    const registers = [registry];
    this.queryDuration = new Histogram({
      name: 'torouter_usage_query_duration_seconds',
      help: 'Time to answer a usage query, by query',
      labelNames: ['query'],
      buckets: [...OVERHEAD_BUCKETS_SECONDS, ...DURATION_BUCKETS_SECONDS.filter((b) => b > 1)],
      registers,
    });
    this.exportRows = new Counter({
      name: 'torouter_usage_export_rows_total',
      help: 'Rows written into CSV exports',
      registers,
    });
    this.exports = new Counter({
      name: 'torouter_usage_exports_total',
      help: 'CSV exports by result',
      labelNames: ['result'],
      registers,
    });
    this.exportsInProgress = new Gauge({
      name: 'torouter_usage_exports_in_progress',
      help: 'CSV exports streaming right now',
      registers,
    });
    this.partitions = new Gauge({
      name: 'torouter_usage_partitions',
      help: 'Monthly request-log partitions present',
      registers,
    });
    this.maintenanceRuns = new Counter({
      name: 'torouter_usage_partition_maintenance_total',
      help: 'Partition maintenance runs by result',
      labelNames: ['result'],
      registers,
    });
  }

  /** Times `fn` into torouter_usage_query_duration_seconds{query}. */
  async timeQuery<T>(query: string, fn: () => Promise<T>): Promise<T> {
    const end = this.queryDuration.startTimer({ query });
    try {
      return await fn();
    } finally {
      end();
    }
  }
}
