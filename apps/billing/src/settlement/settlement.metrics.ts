import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

export interface SettlementMetrics {
  lag: Histogram;
  settled: Counter<'result'>;
  failures: Counter;
  queueDepth: Gauge<'state'>;
  batchSize: Histogram;
}

/**
 * `torouter_billing_settlement_lag_seconds` (request finished → settled in Postgres),
 * `torouter_billing_usage_events_settled_total{result="settled|duplicate"}`,
 * `torouter_billing_settlement_failures_total` (attempts that will be retried),
 * `torouter_billing_settlement_queue_depth{state}` (read from BullMQ at scrape time) and
 * `torouter_billing_settlement_batch_size` (jobs settled per Postgres transaction).
 */
export function settlementMetrics(
  registry: Registry,
  jobCounts: () => Promise<Record<string, number>>,
): SettlementMetrics {
  const queueDepth: Gauge<'state'> = new Gauge({
    name: 'torouter_billing_settlement_queue_depth',
    help: 'Usage settlement jobs in the BullMQ queue, by state',
    labelNames: ['state'],
    registers: [registry],
    async collect() {
      try {
        const counts = await jobCounts();
        for (const [state, n] of Object.entries(counts)) queueDepth.set({ state }, n);
      } catch {
        // Redis unreachable: keep the last values; the dependency gauge reports the outage.
      }
    },
  });
  return {
    lag: new Histogram({
      name: 'torouter_billing_settlement_lag_seconds',
      help: 'Time from the end of a request to its usage being settled in the ledger',
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600],
      registers: [registry],
    }),
    settled: new Counter({
      name: 'torouter_billing_usage_events_settled_total',
      help: 'Usage events settled (result=settled) or found settled already (result=duplicate)',
      labelNames: ['result'],
      registers: [registry],
    }),
    failures: new Counter({
      name: 'torouter_billing_settlement_failures_total',
      help: 'Settlement attempts that failed and will be retried',
      registers: [registry],
    }),
    queueDepth,
    batchSize: new Histogram({
      name: 'torouter_billing_settlement_batch_size',
      help: 'Settlement jobs settled together in one Postgres transaction',
      buckets: [1, 2, 5, 10, 25, 50, 100, 250, 500, 1000],
      registers: [registry],
    }),
  };
}
