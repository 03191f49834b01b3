import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnModuleDestroy,
} from '@nestjs/common';
import type { UsageConfig } from '@torouter/config';
import { Consumers, streamName, Streams, UsageRecordedEvent } from '@torouter/contracts';
import {
  consumeDurableBatches,
  ensureStream,
  EventBus,
  type DurableConsumerHandle,
} from '@torouter/messaging';
import { APP_CONFIG } from '@torouter/service-runtime';
import { Events } from 'nats';
import { DataSource } from 'typeorm';
import { UsageMetrics } from '../metrics/usage-metrics';
import { PartitionMaintenanceService } from '../partitions/partition-maintenance.service';
import { RequestLogRepository } from './request-log.repository';
import { toUsageRow } from './usage-row';

const CONSUMER = Consumers.usageLog;
const QUEUE_SAMPLE_MS = 5000;
/** Events written per transaction at most (one statement per table whatever the size). */
const MAX_BATCH = 200;

/**
 * Turns usage events into request-log rows. A durable, explicitly acked JetStream pull consumer shared by
 * every replica (each event goes to one), handled in batches — whatever arrived while the previous batch
 * was written, one transaction each: an event is acked only after its row and rollups committed, so a
 * crash redelivers it, and a redelivered or re-published event finds its row and changes nothing.
 */
@Injectable()
export class UsageEventConsumer implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(UsageEventConsumer.name);
  private handle: DurableConsumerHandle | null = null;
  private sampler: NodeJS.Timeout | null = null;
  private stopped = false;

  constructor(
    @Inject(APP_CONFIG) private readonly config: UsageConfig,
    private readonly events: EventBus,
    private readonly dataSource: DataSource,
    private readonly repository: RequestLogRepository,
    private readonly maintenance: PartitionMaintenanceService,
    private readonly metrics: UsageMetrics,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    // Partitions for this month and the next ones exist before the first row arrives.
    await this.maintenance.runOnce();
    const nc = this.events.connection;
    await ensureStream(nc, this.config.TOROUTER_NAMESPACE, Streams.usage);
    const { consumed, lag, handleDuration } = this.metrics.pipeline;
    // Label sets resolved once, not per event.
    const lagOf = lag.labels({ consumer: CONSUMER });
    const timer = handleDuration.labels({ consumer: CONSUMER });
    this.handle = await consumeDurableBatches(nc, {
      namespace: this.config.TOROUTER_NAMESPACE,
      stream: Streams.usage.name,
      durable: CONSUMER,
      schema: UsageRecordedEvent,
      ackWaitMs: 30_000,
      retryDelayMs: 1000,
      maxBatch: MAX_BATCH,
      handle: async (events) => {
        const end = timer.startTimer();
        const rows = events.map(toUsageRow);
        const isNew = await this.repository.recordBatch(rows);
        end();
        const now = Date.now();
        let applied = 0;
        for (let i = 0; i < rows.length; i++) {
          if (!isNew[i]) continue;
          applied += 1;
          lagOf.observe(Math.max(0, (now - rows[i].finishedAt.getTime()) / 1000));
        }
        if (applied > 0) consumed.inc({ consumer: CONSUMER, result: 'applied' }, applied);
        if (applied < rows.length)
          consumed.inc({ consumer: CONSUMER, result: 'duplicate' }, rows.length - applied);
      },
      onInvalid: (error, seq) => {
        consumed.inc({ consumer: CONSUMER, result: 'invalid' });
        this.logger.error(`dropped malformed usage event (stream seq ${seq}): ${error}`);
      },
      onError: (e, count) => {
        consumed.inc({ consumer: CONSUMER, result: 'failed' }, count);
        const err = e instanceof Error ? e : new Error(String(e));
        this.logger.error(
          `could not record ${count} usage event(s), they will be redelivered: ${err.message}`,
          err.stack,
        );
      },
    });
    this.sampler = setInterval(() => void this.sample(), QUEUE_SAMPLE_MS);
    this.sampler.unref();
    void this.watchConnection();
    this.logger.log(`consuming usage events (durable ${CONSUMER})`);
  }

  async onModuleDestroy(): Promise<void> {
    this.stopped = true;
    if (this.sampler) clearInterval(this.sampler);
    await this.handle?.stop();
    this.handle = null;
  }

  /** Queue depth of this consumer and the DB pool, for /metrics. */
  private async sample(): Promise<void> {
    const { queueDepth } = this.metrics.pipeline;
    try {
      const jsm = await this.events.connection.jetstreamManager();
      const info = await jsm.consumers.info(
        streamName(this.config.TOROUTER_NAMESPACE, Streams.usage.name),
        CONSUMER,
      );
      queueDepth.set({ queue: CONSUMER, state: 'pending' }, info.num_pending);
      queueDepth.set({ queue: CONSUMER, state: 'unacked' }, info.num_ack_pending);
    } catch {
      // NATS down: torouter_connection_up says so; keep the last known depth.
    }
    const pool = (
      this.dataSource.driver as unknown as {
        master?: { totalCount: number; idleCount: number; waitingCount: number };
      }
    ).master;
    if (pool) {
      this.metrics.dbPool.connections.set({ state: 'total' }, pool.totalCount);
      this.metrics.dbPool.connections.set({ state: 'idle' }, pool.idleCount);
      this.metrics.dbPool.connections.set({ state: 'waiting' }, pool.waitingCount);
    }
  }

  /** torouter_connection_up{dependency="nats"} follows the connection's own status events. */
  private async watchConnection(): Promise<void> {
    const { up, events } = this.metrics.connections;
    const nc = this.events.connection;
    up.set({ dependency: 'nats' }, nc.isClosed() ? 0 : 1);
    for await (const s of nc.status()) {
      if (this.stopped) return;
      if (s.type === Events.Disconnect) {
        up.set({ dependency: 'nats' }, 0);
        events.inc({ dependency: 'nats', event: 'disconnect' });
      } else if (s.type === Events.Reconnect) {
        up.set({ dependency: 'nats' }, 1);
        events.inc({ dependency: 'nats', event: 'reconnect' });
      } else if (s.type === Events.Error) {
        events.inc({ dependency: 'nats', event: 'error' });
      }
    }
    up.set({ dependency: 'nats' }, 0);
  }
}
