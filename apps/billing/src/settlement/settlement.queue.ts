import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnModuleDestroy,
} from '@nestjs/common';
import type { BillingConfig } from '@torouter/config';
import { Consumers, Streams } from '@torouter/contracts';
import {
  consumeDurableBatches,
  ensureStream,
  EventBus,
  type DurableConsumerHandle,
} from '@torouter/messaging';
import { APP_CONFIG, METRICS_REGISTRY } from '@torouter/service-runtime';
import { Queue, Worker, type Job } from 'bullmq';
import { Redis } from 'ioredis';
import type { Registry } from 'prom-client';
import { KeySpendOutbox } from './key-spend-outbox';
import { KeysClient } from './keys.client';
import { SettlementBatcher } from './settlement-batcher';
import { settlementMetrics, type SettlementMetrics } from './settlement.metrics';
import { SettlementJobData, SettlementService, type SettlementOutcome } from './settlement.service';

import { UsageSettlementsRepository } from './usage-settlements.repository';

/** Persistent names: never rename (queued jobs live under them). */
export const SettlementQueueName = 'billing.settlement';
export const SettleUsageJob = 'settle-usage';

/** BullMQ job ids may not contain ':'; '%' never occurs in a request id, so this stays one-to-one. */
export function settlementJobId(requestId: string): string {
  return `usage-${requestId.replace(/%/g, '%25').replace(/:/g, '%3A')}`;
}

/** Usage events stored as jobs per Redis round trip (and the JetStream messages acked together). */
const enqueueBatch = 500;
/** Usage events delivered to billing and not yet stored as jobs, across replicas. */
const maxAckPending = 2000;
/** How long a settlement run waits for more jobs when it could start at once (see SettlementBatcher). */
const settlementGatherMs = 10;
/** Entries of the queue's BullMQ event stream kept (trimmed approximately, a stream node at a time). */
const eventsKept = 1000;

/**
 * The settlement fields of a job's payload. It was validated (`SettlementJobData`) before it was stored,
 * so it is not parsed again per job, only narrowed: a payload stored whole by an earlier version keeps
 * just what settlement reads.
 */
export function settlementJobData(data: SettlementJobData): SettlementJobData {
  return {
    requestId: data.requestId,
    accountId: data.accountId,
    keyId: data.keyId,
    planId: data.planId,
    model: data.model,
    costMicroUsd: data.costMicroUsd,
    reservationId: data.reservationId,
    startedAt: data.startedAt,
    finishedAt: data.finishedAt,
  };
}

/**
 * Usage events from JetStream to the ledger. The durable consumer stores each event as a BullMQ job whose
 * id is the request id (a batch of them per Redis round trip) and acks the messages only once the jobs are
 * stored (a redelivery finds the job, or a settled request). Workers settle jobs idempotently; jobs active
 * at the same time are settled together, up to BILLING_SETTLEMENT_BATCH_SIZE in one Postgres transaction,
 * and each job completes once its transaction has committed and Redis has the counters. A worker that dies
 * mid-job loses its lock and the job is rerun by another; a job that fails is retried with backoff (capped
 * at a minute) for days. `BILLING_SETTLEMENT_CONCURRENCY=0` makes a process that only enqueues.
 */
@Injectable()
export class SettlementQueue implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(SettlementQueue.name);
  private readonly connections: Redis[] = [];
  private queue?: Queue;
  private worker?: Worker;
  private consumer?: DurableConsumerHandle;
  private readonly metrics: SettlementMetrics;
  private readonly batcher: SettlementBatcher<SettlementJobData, SettlementOutcome>;
  private readonly outbox: KeySpendOutbox;

  constructor(
    @Inject(APP_CONFIG) private readonly config: BillingConfig,
    @Inject(METRICS_REGISTRY) registry: Registry,
    private readonly events: EventBus,
    private readonly settlement: SettlementService,
    private readonly keys: KeysClient,
    settlements: UsageSettlementsRepository,
  ) {
    this.metrics = settlementMetrics(registry, async () =>
      this.queue ? this.queue.getJobCounts('waiting', 'active', 'delayed', 'prioritized', 'failed') : {},
    );
    this.outbox = new KeySpendOutbox(settlements, keys, { warn: (m) => this.logger.warn(m) });
    this.batcher = new SettlementBatcher(
      async (items) => {
        const outcomes = await this.settlement.settleBatch(items);
        this.outbox.kickSoon();
        return outcomes;
      },
      {
        maxBatch: config.BILLING_SETTLEMENT_BATCH_SIZE,
        maxInFlight: Math.max(1, config.BILLING_SETTLEMENT_CONCURRENCY),
        gatherMs: settlementGatherMs,
        keyOf: (ev) => ev.accountId,
        onBatch: (size) => this.metrics.batchSize.observe(size),
      },
    );
  }

  private connection(opts: { autoPipelining?: boolean } = {}): Redis {
    // BullMQ manages its own key prefix (ioredis keyPrefix is not supported) and blocking commands.
    const c = new Redis(this.config.REDIS_URL, {
      maxRetriesPerRequest: null,
      connectionName: 'billing-bullmq',
      enableAutoPipelining: opts.autoPipelining ?? false,
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
      // BullMQ appends to this stream on every add, start and completion of a job; nobody here reads it
      // (no QueueEvents), so it only keeps enough to look at by hand.
      streams: { events: { maxLen: eventsKept } },
      defaultJobOptions: {
        attempts: 10_000,
        backoff: { type: 'capped' },
        // A completed job is deleted at once: keeping it (a sorted-set entry, its hash, trimmed on every
        // completion) deduplicated nothing that matters, since the settlement record in Postgres already
        // makes a re-added job for a settled request id a no-op.
        removeOnComplete: true,
        removeOnFail: { age: 30 * 24 * 3600 },
      },
    });
    if (this.config.BILLING_SETTLEMENT_CONCURRENCY > 0) {
      this.startWorker(prefix);
      this.outbox.start();
    }

    const nc = this.events.connection;
    await ensureStream(nc, this.config.TOROUTER_NAMESPACE, Streams.usage);
    this.consumer = await consumeDurableBatches(nc, {
      namespace: this.config.TOROUTER_NAMESPACE,
      stream: Streams.usage.name,
      durable: Consumers.billingSettlement,
      // Only what settlement uses is validated (and kept as the job's payload): an event is never dropped
      // here for a field billing does not read; the usage service checks the whole event for its log.
      schema: SettlementJobData,
      maxBatch: enqueueBatch,
      maxAckPending,
      handle: (evs) => this.enqueue(evs),
      onInvalid: (error, seq) =>
        this.logger.error(`usage event #${seq} is malformed and was dropped: ${error}`),
      onError: (error, count) =>
        this.logger.warn(`${count} usage events not enqueued yet (retrying): ${String(error)}`),
    });
  }

  private startWorker(prefix: string): void {
    const lockMs = this.config.BILLING_SETTLEMENT_LOCK_MS;
    this.worker = new Worker(SettlementQueueName, (job: Job) => this.process(job), {
      // A batch's jobs complete together: their commands then leave in one write instead of one each.
      connection: this.connection({ autoPipelining: true }),
      prefix,
      // Enough jobs active to fill the next transaction while one settles. More would only wait here
      // instead of in Redis, each holding a lock to renew (measured: lag at 1000/s grows with the excess).
      concurrency: 2 * this.config.BILLING_SETTLEMENT_BATCH_SIZE,
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

  /** Same job id again (a redelivery) adds nothing while the job exists; once removed, settling again is a no-op. */
  async enqueue(evs: SettlementJobData[]): Promise<void> {
    await this.queue!.addBulk(
      evs.map((ev) => ({
        name: SettleUsageJob,
        data: ev,
        opts: { jobId: settlementJobId(ev.requestId) },
      })),
    );
  }

  private async process(job: Job<SettlementJobData>): Promise<void> {
    const ev = settlementJobData(job.data);
    const outcome = await this.batcher.submit(ev);
    if (!outcome.duplicate)
      this.metrics.lag.observe(Math.max(0, (Date.now() - Date.parse(ev.finishedAt)) / 1000));
    this.metrics.settled.inc({ result: outcome.duplicate ? 'duplicate' : 'settled' });
  }

  async onModuleDestroy(): Promise<void> {
    await this.consumer?.stop().catch(() => undefined);
    await this.worker?.close().catch(() => undefined);
    await this.queue?.close().catch(() => undefined);
    for (const c of this.connections) c.disconnect();
    await this.outbox.stop().catch(() => undefined);
    await this.keys.close().catch(() => undefined);
  }
}
