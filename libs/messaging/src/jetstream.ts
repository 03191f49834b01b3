import { namespaced, streamName } from '@torouter/contracts';
import {
  createInbox,
  headers as natsHeaders,
  AckPolicy,
  DeliverPolicy,
  JSONCodec,
  RetentionPolicy,
  StorageType,
  type ConsumerMessages,
  type JsMsg,
  type Msg,
  type NatsConnection,
  type Subscription,
} from 'nats';
import type { z } from 'zod';

const codec = JSONCodec();
const nanos = (ms: number) => ms * 1_000_000;

export interface DurableStreamSpec {
  /** Unnamespaced stream name from `Streams` (e.g. USAGE). */
  name: string;
  /** Unnamespaced subjects from `Subjects`. */
  subjects: readonly string[];
  /** How long a message is kept whatever its consumers did; default 7 days. */
  maxAgeMs?: number;
  /** Window in which a repeated message id is dropped as a duplicate; default 10 minutes. */
  duplicateWindowMs?: number;
}

/**
 * Creates (or updates) a file-backed stream. Billing-grade events live here, not on core NATS, which is
 * at-most-once: a message published while a consumer restarts waits in the stream.
 */
export async function ensureStream(
  nc: NatsConnection,
  namespace: string,
  spec: DurableStreamSpec,
): Promise<string> {
  const jsm = await nc.jetstreamManager();
  const name = streamName(namespace, spec.name);
  const config = {
    name,
    subjects: spec.subjects.map((s) => namespaced(namespace, s)),
    retention: RetentionPolicy.Limits,
    storage: StorageType.File,
    max_age: nanos(spec.maxAgeMs ?? 7 * 24 * 3600_000),
    duplicate_window: nanos(spec.duplicateWindowMs ?? 10 * 60_000),
  };
  try {
    await jsm.streams.info(name);
    await jsm.streams.update(name, config);
  } catch (e) {
    if (!/stream not found/i.test(String((e as Error).message))) throw e;
    await jsm.streams.add(config);
  }
  return name;
}

/**
 * Publishes durably and waits for the stream's ack. `messageId` dedupes: publishing the same id again
 * within the duplicate window stores nothing new (a retried publish never double-counts).
 */
export async function publishDurable(
  nc: NatsConnection,
  namespace: string,
  subject: string,
  payload: unknown,
  messageId: string,
  opts: { timeoutMs?: number } = {},
): Promise<{ duplicate: boolean; seq: number }> {
  const js = nc.jetstream({ timeout: opts.timeoutMs ?? 5000 });
  const ack = await js.publish(namespaced(namespace, subject), codec.encode(payload), { msgID: messageId });
  return { duplicate: ack.duplicate, seq: ack.seq };
}

/** JetStream's answer to one message of a batch. */
export type BatchPublishResult = { ok: true; duplicate: boolean } | { ok: false; error: string };

/**
 * Publishes batches to JetStream and waits for every ack of a batch at once: one inbox subscription for
 * the publisher's lifetime and one timer per batch. (nats.js's `js.publish` is a request per message, each
 * with its own timer, mux entry and pre-built timeout error: a measurable cost per usage event.) Message
 * ids (`Nats-Msg-Id`) dedupe as with `publishDurable`.
 */
export class JetStreamBatchPublisher {
  private readonly inbox = createInbox();
  private readonly waiting = new Map<string, (result: BatchPublishResult) => void>();
  private readonly subscription: Subscription;
  private next = 0;

  constructor(private readonly nc: NatsConnection) {
    this.subscription = nc.subscribe(`${this.inbox}.*`, { callback: (_err, msg) => this.settle(msg) });
  }

  /** Publishes every item (namespaced `subject`), resolving with one result per item, in order. */
  async publish(
    namespace: string,
    subject: string,
    items: Array<{ messageId: string; data: Uint8Array }>,
    timeoutMs = 5000,
  ): Promise<BatchPublishResult[]> {
    const target = namespaced(namespace, subject);
    const tokens: string[] = [];
    const results = items.map(
      (item) =>
        new Promise<BatchPublishResult>((resolve) => {
          const token = String(++this.next);
          tokens.push(token);
          this.waiting.set(token, resolve);
          const h = natsHeaders();
          h.set('Nats-Msg-Id', item.messageId);
          this.nc.publish(target, item.data, { reply: `${this.inbox}.${token}`, headers: h });
        }),
    );
    const timer = setTimeout(() => {
      for (const token of tokens) this.resolve(token, { ok: false, error: 'no JetStream ack in time' });
    }, timeoutMs);
    try {
      return await Promise.all(results);
    } finally {
      clearTimeout(timer);
    }
  }

  close(): void {
    this.subscription.unsubscribe();
    for (const token of [...this.waiting.keys()])
      this.resolve(token, { ok: false, error: 'publisher closed' });
  }

  private settle(msg: Msg): void {
    const token = msg.subject.slice(this.inbox.length + 1);
    // No stream listens on the subject: the server answers with a 503 status and no body.
    if (msg.headers?.hasError) {
      this.resolve(token, { ok: false, error: `${msg.headers.code} ${msg.headers.description}` });
      return;
    }
    try {
      const ack = JSON.parse(msg.string()) as { duplicate?: boolean; error?: { description?: string } };
      this.resolve(
        token,
        ack.error
          ? { ok: false, error: ack.error.description ?? 'JetStream refused the message' }
          : { ok: true, duplicate: ack.duplicate === true },
      );
    } catch {
      this.resolve(token, { ok: false, error: 'unreadable JetStream ack' });
    }
  }

  private resolve(token: string, result: BatchPublishResult): void {
    const resolve = this.waiting.get(token);
    if (!resolve) return;
    this.waiting.delete(token);
    resolve(result);
  }
}

/** What every durable consumer is configured with. */
interface DurableConsumerSettings<T> {
  namespace: string;
  /** Unnamespaced stream name from `Streams`. */
  stream: string;
  /** Durable name from `Consumers`; all replicas of one service share it, so each message goes to one. */
  durable: string;
  schema: z.ZodType<T, z.ZodTypeDef, unknown>;
  /** A payload that fails validation is acked-away (terminated) and reported here, never retried. */
  onInvalid?(error: string, seq: number): void;
  ackWaitMs?: number;
  /** Delivered but not yet acked, across all replicas (JetStream stops delivering beyond it). */
  maxAckPending?: number;
  /** A failed message is retried after this, doubling per redelivery up to `maxRetryDelayMs`. */
  retryDelayMs?: number;
  maxRetryDelayMs?: number;
}

export interface DurableConsumerOptions<T> extends DurableConsumerSettings<T> {
  /**
   * Resolve = done (acked). Throw = retried (at-least-once: make it idempotent), after `retryDelayMs`
   * doubling per redelivery up to `maxRetryDelayMs`, so a poison message costs little while it waits for a
   * fix and is never dropped.
   */
  handle(event: T, meta: { redeliveryCount: number; seq: number }): Promise<void>;
  onError?(error: unknown, seq: number): void;
}

export interface DurableBatchConsumerOptions<T> extends DurableConsumerSettings<T> {
  /** Most messages handed to `handle` at once. */
  maxBatch: number;
  /** Resolve = every message of the batch is done (acked); throw = all of them are retried with backoff. */
  handle(events: T[]): Promise<void>;
  onError?(error: unknown, count: number): void;
}

export interface DurableConsumerHandle {
  stop(): Promise<void>;
}

/** Creates the durable consumer (or updates its limits) and starts pulling from it. */
async function openDurableConsumer<T>(
  nc: NatsConnection,
  opts: DurableConsumerSettings<T>,
  pullBatch: number,
): Promise<ConsumerMessages> {
  const jsm = await nc.jetstreamManager();
  const stream = streamName(opts.namespace, opts.stream);
  const durable = opts.durable;
  const limits = {
    ack_wait: nanos(opts.ackWaitMs ?? 30_000),
    max_ack_pending: opts.maxAckPending ?? 1000,
  };
  try {
    await jsm.consumers.info(stream, durable);
    await jsm.consumers.update(stream, durable, limits);
  } catch (e) {
    if (!/consumer not found/i.test(String((e as Error).message))) throw e;
    await jsm.consumers.add(stream, {
      durable_name: durable,
      ack_policy: AckPolicy.Explicit,
      deliver_policy: DeliverPolicy.All,
      ...limits,
    });
  }
  const consumer = await nc.jetstream().consumers.get(stream, durable);
  return consumer.consume({ max_messages: Math.min(limits.max_ack_pending, pullBatch) });
}

/** The message's payload, validated; an unreadable or invalid one is terminated (never redelivered). */
function decodeOrTerminate<T>(msg: JsMsg, opts: DurableConsumerSettings<T>): { event: T } | undefined {
  let data: unknown;
  try {
    data = codec.decode(msg.data);
  } catch {
    opts.onInvalid?.('not JSON', msg.seq);
    msg.term();
    return undefined;
  }
  const parsed = opts.schema.safeParse(data);
  if (!parsed.success) {
    opts.onInvalid?.(parsed.error.message, msg.seq);
    msg.term();
    return undefined;
  }
  return { event: parsed.data };
}

/** Negative ack with exponential backoff by redelivery count. */
function nakWithBackoff(
  msg: JsMsg,
  opts: Pick<DurableConsumerSettings<unknown>, 'retryDelayMs' | 'maxRetryDelayMs'>,
): void {
  const attempt = Math.max(0, msg.info.redeliveryCount - 1);
  const base = opts.retryDelayMs ?? 1000;
  msg.nak(Math.min(opts.maxRetryDelayMs ?? 60_000, base * 2 ** Math.min(attempt, 16)));
}

/**
 * Consumes a stream with a durable, explicitly acked pull consumer, starting from the first message it
 * has not acked (also after a crash or restart).
 */
export async function consumeDurable<T>(
  nc: NatsConnection,
  opts: DurableConsumerOptions<T>,
): Promise<DurableConsumerHandle> {
  const messages = await openDurableConsumer(nc, opts, 256);
  const handleOne = async (msg: JsMsg) => {
    const decoded = decodeOrTerminate(msg, opts);
    if (!decoded) return;
    try {
      await opts.handle(decoded.event, { redeliveryCount: msg.info.redeliveryCount, seq: msg.seq });
      msg.ack();
    } catch (e) {
      opts.onError?.(e, msg.seq);
      nakWithBackoff(msg, opts);
    }
  };

  const loop = (async () => {
    for await (const msg of messages) await handleOne(msg);
  })();

  return {
    stop: async () => {
      await messages.close();
      await loop.catch(() => undefined);
    },
  };
}

/**
 * `consumeDurable` that hands over what has arrived as one batch — whatever JetStream delivered while the
 * previous batch was being handled, up to `maxBatch` — so a consumer can write a whole batch in one
 * transaction instead of one per message. Same consumer settings and redelivery rules.
 */
export async function consumeDurableBatches<T>(
  nc: NatsConnection,
  opts: DurableBatchConsumerOptions<T>,
): Promise<DurableConsumerHandle> {
  const messages = await openDurableConsumer(nc, opts, 1000);
  const arrived: JsMsg[] = [];
  let ended = false;
  let wake: (() => void) | undefined;
  const signal = () => {
    const w = wake;
    wake = undefined;
    w?.();
  };

  const handleBatch = async (batch: JsMsg[]) => {
    const valid: Array<{ msg: JsMsg; event: T }> = [];
    for (const msg of batch) {
      const decoded = decodeOrTerminate(msg, opts);
      if (decoded) valid.push({ msg, event: decoded.event });
    }
    if (!valid.length) return;
    try {
      await opts.handle(valid.map((v) => v.event));
      for (const v of valid) v.msg.ack();
    } catch (e) {
      opts.onError?.(e, valid.length);
      for (const { msg } of valid) nakWithBackoff(msg, opts);
    }
  };

  const reader = (async () => {
    try {
      for await (const msg of messages) {
        arrived.push(msg);
        signal();
      }
    } finally {
      ended = true;
      signal();
    }
  })();
  const handler = (async () => {
    for (;;) {
      if (arrived.length) {
        const batch = arrived.splice(0, opts.maxBatch);
        // Unacked on a failure here: JetStream redelivers them after ack_wait.
        await handleBatch(batch).catch((e: unknown) => opts.onError?.(e, batch.length));
      } else if (ended) return;
      else await new Promise<void>((resolve) => (wake = resolve));
    }
  })();

  return {
    // What was delivered before the stop is still handled (then acked), so nothing waits for ack_wait.
    stop: async () => {
      await messages.close();
      await reader.catch(() => undefined);
      await handler.catch(() => undefined);
    },
  };
}
