import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnModuleDestroy,
} from '@nestjs/common';
import type { BillingConfig } from '@torouter/config';
import { Consumers, Streams, UsageRecordedEvent } from '@torouter/contracts';
import { consumeDurable, ensureStream, EventBus, type DurableConsumerHandle } from '@torouter/messaging';
import { APP_CONFIG, METRICS_REGISTRY } from '@torouter/service-runtime';
import { Queue, Worker, type Job } from 'bullmq';
import { Redis } from 'ioredis';
import type { Registry } from 'prom-client';
import { KeysClient } from './keys.client';
import { settlementMetrics, type SettlementMetrics } from './settlement.metrics';
import { SettlementService } from './settlement.service';

/** Persistent names: never rename (queued jobs live under them). */
export const SettlementQueueName = 'billing.settlement';
export const SettleUsageJob = 'settle-usage';

/** BullMQ job ids may not contain ':'; '%' never occurs in a request id, so this stays one-to-one. */
export function settlementJobId(requestId: string): string {
  return `usage-${requestId.replace(/%/g, '%25').replace(/:/g, '%3A')}`;
}

/**
 * Usage events from JetStream to the ledger. The durable consumer enqueues each event as a BullMQ job
 * whose id is the request id and acks the message only once the job is stored (a redelivery finds the
 * job, or a settled request); workers settle jobs, each in one Postgres transaction, idempotently. A
 * worker that dies mid-job loses its lock and the job is rerun by another; a job that fails is retried
 * with backoff (capped at a minute) for days. `BILLING_SETTLEMENT_CONCURRENCY=0` makes a process that
 * only enqueues.
 */
@Injectable()
export class SettlementQueue implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(SettlementQueue.name);
  private readonly connections: Redis[] = [];
  private queue?: Queue;
  private worker?: Worker;
  private consumer?: DurableConsumerHandle;
  private readonly metrics: SettlementMetrics;

  constructor(
    @Inject(APP_CONFIG) private readonly config: BillingConfig,
    @Inject(METRICS_REGISTRY) registry: Registry,
    private readonly events: EventBus,
    private readonly settlement: SettlementService,
    private readonly keys: KeysClient,
  ) {
    this.metrics = settlementMetrics(registry, async () =>
      this.queue ? this.queue.getJobCounts('waiting', 'active', 'delayed', 'prioritized', 'failed') : {},
    );
  }

  private connection(): Redis {
    // BullMQ manages its own key prefix (ioredis keyPrefix is not supported) and blocking commands.
    const c = new Redis(this.config.REDIS_URL, {
      maxRetriesPerRequest: null,
      connectionName: 'billing-bullmq',
    });
    c.on('error', () => undefined); // reconnects by itself; BullMQ reports what fails
    this.connections.push(c);
    return c;
  }

  async onApplicationBootstrap(): Promise<void> {
    const prefix = `${this.config.TOROUTER_NAMESPACE}:bull`;
    this.queue = new Queue(SettlementQueueName, {
      connection: this.connection(),
      prefix,
      defaultJobOptions: {
        attempts: 10_000,
        backoff: { type: 'capped' },
        removeOnComplete: { age: 24 * 3600, count: 100_000 },
        removeOnFail: { age: 30 * 24 * 3600 },
      },
    });
    if (this.config.BILLING_SETTLEMENT_CONCURRENCY > 0) this.startWorker(prefix);

    const nc = this.events.connection;
    await ensureStream(nc, this.config.TOROUTER_NAMESPACE, Streams.usage);
    this.consumer = await consumeDurable(nc, {
      namespace: this.config.TOROUTER_NAMESPACE,
      stream: Streams.usage.name,
      durable: Consumers.billingSettlement,
      schema: UsageRecordedEvent,
      handle: (ev) => this.enqueue(ev),
      onInvalid: (error, seq) =>
        this.logger.error(`usage event #${seq} is malformed and was dropped: ${error}`),
      onError: (error, seq) =>
        this.logger.warn(`usage event #${seq} not enqueued yet (retrying): ${String(error)}`),
    });
  }

  private startWorker(prefix: string): void {
    const lockMs = this.config.BILLING_SETTLEMENT_LOCK_MS;
    this.worker = new Worker(SettlementQueueName, (job: Job) => this.process(job), {
      connection: this.connection(),
      prefix,
      concurrency: this.config.BILLING_SETTLEMENT_CONCURRENCY,
      lockDuration: lockMs,
      stalledInterval: Math.max(1000, Math.floor(lockMs / 2)),
      maxStalledCount: 1000,
      settings: {
        backoffStrategy: (attemptsMade: number) => Math.min(1000 * 2 ** (attemptsMade - 1), 60_000),
      },
    });
    this.worker.on('failed', (job, err) => {
      this.metrics.failures.inc();
      this.logger.warn(
        `settling ${job?.id ?? '?'} failed (attempt ${job?.attemptsMade ?? '?'}): ${err.message}`,
      );
    });
    this.worker.on('error', (err) => this.logger.warn(`settlement worker: ${err.message}`));
  }

  async enqueue(ev: UsageRecordedEvent): Promise<void> {
    // Same job id again (a redelivery) adds nothing while the job exists; once removed, settling again is a no-op.
    await this.queue!.add(SettleUsageJob, ev, { jobId: settlementJobId(ev.requestId) });
  }

  private async process(job: Job): Promise<void> {
    const ev = UsageRecordedEvent.parse(job.data);
    const outcome = await this.settlement.settle(ev);
    if (!outcome.duplicate)
      this.metrics.lag.observe(Math.max(0, (Date.now() - Date.parse(ev.finishedAt)) / 1000));
    this.metrics.settled.inc({ result: outcome.duplicate ? 'duplicate' : 'settled' });
    if (ev.costMicroUsd > 0) await this.keys.addSpend(ev.keyId, ev.requestId, ev.costMicroUsd);
  }

  async onModuleDestroy(): Promise<void> {
    await this.consumer?.stop().catch(() => undefined);
    await this.worker?.close().catch(() => undefined);
    await this.queue?.close().catch(() => undefined);
    for (const c of this.connections) c.disconnect();
    await this.keys.close().catch(() => undefined);
  }
}
