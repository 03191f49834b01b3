import { Inject, Injectable, Logger, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import type { RouterConfig } from '@torouter/config';
import { Streams, Subjects } from '@torouter/contracts';
import { ensureStream, EventBus, JetStreamBatchPublisher } from '@torouter/messaging';
import { eventPipelineMetrics } from '@torouter/observability';
import { APP_CONFIG, METRICS_REGISTRY } from '@torouter/service-runtime';
import type { Redis } from 'ioredis';
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { Registry } from 'prom-client';
import type { UsageRecord } from '../admission/admission.types';
import { REDIS } from '../tokens';

/** Entries one forwarder read takes (the JetStream publishes of a batch run concurrently). */
const BATCH = 256;
/** How long a read waits for new entries before looking at stale ones again. */
const BLOCK_MS = 1_000;
/** How often stale entries are looked for and the outbox depth is sampled. */
const SWEEP_EVERY_MS = 5_000;
/** Forwarder names idle this long with nothing pending are removed (routers that went away). */
const FORGET_CONSUMER_AFTER_MS = 3600_000;
/** A publish that gets no ack in this time counts as failed (the entry stays and is retried). */
const PUBLISH_TIMEOUT_MS = 5_000;
/** How long shutdown waits for the current batch. */
const SHUTDOWN_GRACE_MS = 5_000;

type StreamEntry = [id: string, fields: string[]];

const message = (e: unknown) => (e instanceof Error ? e.message : String(e));
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms).unref());

/**
 * The usage outbox: every admitted request's usage event is first appended to a Redis stream — in the
 * same atomic script that settles its quota (`QuotaStore.settle`), before the client's response
 * completes — and forwarded from there to JetStream (stream USAGE, message id = request id) by every
 * router replica's forwarder, in batches, off the request path.
 *
 * Why: publishing to JetStream after the response (as before) lost the event when the router died in
 * between, and awaiting a JetStream ack on every response costs a round trip per request. The outbox
 * makes the journal write part of a round trip the request makes anyway. An entry is removed only once
 * JetStream acknowledged it; entries of a router that died mid-batch are taken over by another replica
 * after ROUTER_OUTBOX_CLAIM_IDLE_MS (a publish repeated within JetStream's duplicate window is stored once, and billing
 * and the request log are idempotent by request id beyond it).
 *
 * When Redis cannot take an event, it is published to JetStream directly; when that fails too, it is
 * kept in memory and retried until shutdown (logged with the whole event if it never goes out).
 */
@Injectable()
export class UsageOutbox implements OnModuleInit, OnApplicationShutdown {
  static readonly streamKey = 'usage:outbox';
  static readonly group = 'forwarders';

  private readonly logger = new Logger(UsageOutbox.name);
  private readonly consumer = `${hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`;
  private readonly metrics: ReturnType<typeof eventPipelineMetrics>;
  /** A dedicated connection: blocking reads would stall every other command on a shared one. */
  private reader: Redis | undefined;
  private batchPublisher: JetStreamBatchPublisher | undefined;
  private running = false;
  private loop: Promise<void> | undefined;
  /** Events neither Redis nor JetStream took; retried by the forwarder loop. */
  private readonly stranded = new Map<string, UsageRecord>();

  constructor(
    @Inject(REDIS) private readonly redis: Redis,
    private readonly events: EventBus,
    @Inject(APP_CONFIG) private readonly config: RouterConfig,
    @Inject(METRICS_REGISTRY) registry: Registry,
  ) {
    this.metrics = eventPipelineMetrics(registry);
  }

  async onModuleInit(): Promise<void> {
    await ensureStream(this.events.connection, this.config.TOROUTER_NAMESPACE, Streams.usage);
    this.reader = this.redis.duplicate({
      connectionName: `${this.consumer}-outbox`,
      lazyConnect: true,
      enableAutoPipelining: false,
    });
    this.reader.on('error', () => undefined); // reported by the loop when a read fails
    this.batchPublisher = new JetStreamBatchPublisher(this.events.connection);
    this.running = true;
    this.loop = this.forwardForever();
  }

  async onApplicationShutdown(): Promise<void> {
    this.running = false;
    // Unblock a pending read: it ends with an error the loop ignores while stopping.
    this.reader?.disconnect();
    if (this.loop) {
      await Promise.race([this.loop, sleep(SHUTDOWN_GRACE_MS)]);
    }
    this.batchPublisher?.close();
    for (const record of this.stranded.values()) {
      this.logger.error(
        { usageEvent: record.json },
        `usage event ${record.requestId} could not be journaled`,
      );
    }
  }

  /** Events held in memory because neither Redis nor JetStream could take them. */
  get strandedCount(): number {
    return this.stranded.size;
  }

  /**
   * Journals an event that no quota settlement carried (a request without limits, or a settlement that
   * failed). Resolves once it is durable somewhere — or kept for retry when nothing could take it.
   */
  async append(record: UsageRecord): Promise<void> {
    try {
      await this.redis.xadd(UsageOutbox.streamKey, '*', 'id', record.requestId, 'event', record.json);
      return;
    } catch (e) {
      this.logger.warn(`usage outbox unavailable, publishing ${record.requestId} directly: ${message(e)}`);
    }
    if ((await this.publish([record]))[0]) return;
    this.stranded.set(record.requestId, record);
  }

  private async forwardForever(): Promise<void> {
    let ownBacklog = true; // entries this consumer read but did not get acknowledged (a restart, a failure)
    let nextSweep = 0;
    let failures = 0;
    while (this.running) {
      try {
        if (Date.now() >= nextSweep) {
          nextSweep = Date.now() + Math.min(SWEEP_EVERY_MS, this.config.ROUTER_OUTBOX_CLAIM_IDLE_MS);
          await this.ensureGroup();
          if (await this.claimStale()) ownBacklog = true;
          await this.retryStranded();
          await this.sweepConsumers();
          this.metrics.queueDepth.set(
            { queue: 'usage-outbox', state: 'pending' },
            await this.redis.xlen(UsageOutbox.streamKey),
          );
        }
        const entries = await this.read(ownBacklog ? '0' : '>');
        if (ownBacklog && entries.length === 0) {
          ownBacklog = false;
          continue;
        }
        if (entries.length === 0) continue;
        const allSent = await this.forward(entries);
        if (!allSent) {
          ownBacklog = true;
          failures++;
          await sleep(Math.min(250 * 2 ** Math.min(failures, 7), 30_000));
        } else {
          failures = 0;
          // The outbox is drained: let the next events gather for a moment, so they travel (JetStream,
          // billing's jobs and transactions, the request log) as one batch instead of one by one — at a
          // low rate, one by one made every process behind the router cost 3–5× more per event.
          if (entries.length < BATCH && this.config.ROUTER_OUTBOX_LINGER_MS > 0)
            await sleep(this.config.ROUTER_OUTBOX_LINGER_MS);
        }
      } catch (e) {
        if (!this.running) break;
        failures++;
        this.logger.warn(`usage outbox forwarder: ${message(e)}`);
        ownBacklog = true;
        await sleep(Math.min(250 * 2 ** Math.min(failures, 7), 30_000));
      }
    }
  }

  private async read(from: '0' | '>'): Promise<StreamEntry[]> {
    const reader = this.reader!;
    if (reader.status === 'wait' || reader.status === 'end') await reader.connect();
    const res = (await reader.xreadgroup(
      'GROUP',
      UsageOutbox.group,
      this.consumer,
      'COUNT',
      BATCH,
      'BLOCK',
      BLOCK_MS,
      'STREAMS',
      UsageOutbox.streamKey,
      from,
    )) as Array<[string, StreamEntry[]]> | null;
    return res?.[0]?.[1] ?? [];
  }

  /** Publishes a batch; acknowledges and deletes what JetStream took. Resolves `true` when all went. */
  private async forward(entries: StreamEntry[]): Promise<boolean> {
    const records: UsageRecord[] = [];
    const recordEntry: string[] = [];
    const done: string[] = [];
    for (const [id, fields] of entries) {
      // Entries deleted after delivery come back without fields: nothing left to send, just acknowledge.
      const requestId = fields && fieldOf(fields, 'id');
      const json = fields && fieldOf(fields, 'event');
      if (!requestId || !json) {
        if (fields)
          this.logger.error(`usage outbox entry without id or event dropped: ${JSON.stringify(fields)}`);
        done.push(id);
        continue;
      }
      records.push({ requestId, json });
      recordEntry.push(id);
    }
    const sent = await this.publish(records);
    sent.forEach((ok, i) => ok && done.push(recordEntry[i]));
    if (done.length) {
      await this.redis
        .multi()
        .xack(UsageOutbox.streamKey, UsageOutbox.group, ...done)
        .xdel(UsageOutbox.streamKey, ...done)
        .exec();
    }
    return sent.every(Boolean);
  }

  /** Publishes events to JetStream (message id = request id); per event, whether JetStream stored it. */
  private async publish(records: UsageRecord[]): Promise<boolean[]> {
    if (records.length === 0) return [];
    const results = await this.batchPublisher!.publish(
      this.config.TOROUTER_NAMESPACE,
      Subjects.routerRequestCompleted,
      records.map((r) => ({ messageId: r.requestId, data: Buffer.from(r.json, 'utf8') })),
      PUBLISH_TIMEOUT_MS,
    );
    let failed = 0;
    return results.map((r) => {
      if (r.ok) {
        this.metrics.published.inc({
          stream: Streams.usage.name,
          result: r.duplicate ? 'duplicate' : 'stored',
        });
        return true;
      }
      this.metrics.published.inc({ stream: Streams.usage.name, result: 'failed' });
      if (++failed === 1) this.logger.warn(`publishing usage events to JetStream failed: ${r.error}`);
      return false;
    });
  }

  /** The stream's full key: ioredis adds its key prefix to XADD/XREADGROUP/XACK…, not to XGROUP/XINFO. */
  private get fullStreamKey(): string {
    return `${this.redis.options.keyPrefix ?? ''}${UsageOutbox.streamKey}`;
  }

  private async ensureGroup(): Promise<void> {
    try {
      // From the stream's start: entries appended before any forwarder existed are forwarded too.
      await this.redis.xgroup('CREATE', this.fullStreamKey, UsageOutbox.group, '0', 'MKSTREAM');
    } catch (e) {
      if (!/BUSYGROUP/.test(message(e))) throw e;
    }
  }

  /** Takes over entries another forwarder read but never acknowledged (it died). True when any were. */
  private async claimStale(): Promise<boolean> {
    const [, claimed] = (await this.redis.xautoclaim(
      UsageOutbox.streamKey,
      UsageOutbox.group,
      this.consumer,
      this.config.ROUTER_OUTBOX_CLAIM_IDLE_MS,
      '0-0',
      'COUNT',
      BATCH,
      'JUSTID',
    )) as [string, string[]];
    return claimed.length > 0;
  }

  private async retryStranded(): Promise<void> {
    for (const [id, record] of this.stranded) {
      this.stranded.delete(id);
      await this.append(record);
    }
  }

  /** Forgets forwarders of routers that are gone, so the group's consumer list does not grow forever. */
  private async sweepConsumers(): Promise<void> {
    const consumers = (await this.redis.xinfo('CONSUMERS', this.fullStreamKey, UsageOutbox.group)) as Array<
      Array<string | number>
    >;
    for (const info of consumers) {
      const name = String(info[info.indexOf('name') + 1]);
      const pending = Number(info[info.indexOf('pending') + 1]);
      const idle = Number(info[info.indexOf('idle') + 1]);
      if (name !== this.consumer && pending === 0 && idle > FORGET_CONSUMER_AFTER_MS) {
        await this.redis.xgroup('DELCONSUMER', this.fullStreamKey, UsageOutbox.group, name);
      }
    }
  }
}

function fieldOf(fields: string[], name: string): string | undefined {
  for (let i = 0; i + 1 < fields.length; i += 2) if (fields[i] === name) return fields[i + 1];
  return undefined;
}
