import { randomBytes } from 'node:crypto';
import { connect, type NatsConnection } from 'nats';
import { z } from 'zod';
import {
  consumeDurable,
  consumeDurableBatches,
  ensureStream,
  JetStreamBatchPublisher,
  publishDurable,
} from './jetstream';

const Event = z.object({ id: z.string(), n: z.number() });

describe('JetStream durable events', () => {
  const namespace = `js_${randomBytes(4).toString('hex')}`;
  const spec = { name: 'TEST', subjects: ['spec.thing.happened.v1'] };
  let nc: NatsConnection;
  let stream: string;

  beforeAll(async () => {
    nc = await connect({ servers: 'nats://127.0.0.1:4222' });
    stream = await ensureStream(nc, namespace, spec);
  });

  afterAll(async () => {
    const jsm = await nc.jetstreamManager();
    await jsm.streams.delete(stream);
    await nc.close();
  });

  it('stores a message id once, however often it is published', async () => {
    const first = await publishDurable(nc, namespace, spec.subjects[0], { id: 'a', n: 1 }, 'req-a');
    const again = await publishDurable(nc, namespace, spec.subjects[0], { id: 'a', n: 1 }, 'req-a');
    expect(first.duplicate).toBe(false);
    expect(again.duplicate).toBe(true);
    expect(again.seq).toBe(first.seq);
  });

  it('redelivers what a consumer failed on, and resumes a durable consumer where it stopped', async () => {
    await publishDurable(nc, namespace, spec.subjects[0], { id: 'b', n: 2 }, 'req-b');
    await publishDurable(nc, namespace, spec.subjects[0], { nonsense: true }, 'req-bad');
    const seen: string[] = [];
    const invalid: number[] = [];
    let failOnce = true;
    const done = new Promise<void>((resolve) => {
      void consumeDurable(nc, {
        namespace,
        stream: spec.name,
        durable: 'spec-consumer',
        schema: Event,
        retryDelayMs: 50,
        onInvalid: (_e, seq) => invalid.push(seq),
        handle: async (ev, meta) => {
          if (ev.id === 'b' && failOnce) {
            failOnce = false;
            throw new Error('transient');
          }
          seen.push(`${ev.id}:${meta.redeliveryCount}`);
          if (ev.id === 'b') resolve();
        },
      }).then((h) => done.then(() => h.stop()));
    });
    await done;
    expect(seen).toEqual(['a:1', 'b:2']);
    expect(invalid).toHaveLength(1);

    // A new consumer process with the same durable name starts after the last ack.
    await publishDurable(nc, namespace, spec.subjects[0], { id: 'c', n: 3 }, 'req-c');
    const later: string[] = [];
    await new Promise<void>((resolve) => {
      void consumeDurable(nc, {
        namespace,
        stream: spec.name,
        durable: 'spec-consumer',
        schema: Event,
        handle: async (ev) => {
          later.push(ev.id);
          resolve();
        },
      }).then((h) => setTimeout(() => void h.stop(), 200));
    });
    expect(later).toEqual(['c']);
  });

  const batchSpec = { name: 'BATCH', subjects: ['spec.batch.happened.v1'] };

  it('publishes a batch with one ack per message, dedupes message ids, and reports a subject no stream takes', async () => {
    const publisher = new JetStreamBatchPublisher(nc);
    const data = (n: number) => Buffer.from(JSON.stringify({ id: `batch-${n}`, n }));
    const batchStream = await ensureStream(nc, namespace, batchSpec);
    const first = await publisher.publish(namespace, batchSpec.subjects[0], [
      { messageId: 'batch-1', data: data(1) },
      { messageId: 'batch-2', data: data(2) },
      { messageId: 'batch-1', data: data(1) },
    ]);
    expect(first).toEqual([
      { ok: true, duplicate: false },
      { ok: true, duplicate: false },
      { ok: true, duplicate: true },
    ]);
    expect((await (await nc.jetstreamManager()).streams.info(batchStream)).state.messages).toBe(2);
    const nowhere = await publisher.publish(namespace, 'spec.nobody.listens.v1', [
      { messageId: 'x', data: data(3) },
    ]);
    expect(nowhere).toEqual([{ ok: false, error: expect.stringMatching(/503/) }]);
    publisher.close();
    await (await nc.jetstreamManager()).streams.delete(batchStream);
  });

  it('hands over batches, retries a failed batch whole, and terminates invalid messages', async () => {
    const batchedSpec = { name: 'BATCHED', subjects: ['spec.batched.happened.v1'] };
    const batchedStream = await ensureStream(nc, namespace, batchedSpec);
    for (let n = 0; n < 30; n++) {
      await publishDurable(nc, namespace, batchedSpec.subjects[0], { id: `e${n}`, n }, `e${n}`);
    }
    await publishDurable(nc, namespace, batchedSpec.subjects[0], { nonsense: true }, 'bad');
    const handled: string[] = [];
    const sizes: number[] = [];
    const invalid: number[] = [];
    let failFirst = true;
    const handle = await consumeDurableBatches(nc, {
      namespace,
      stream: batchedSpec.name,
      durable: 'spec-batches',
      schema: Event,
      maxBatch: 8,
      retryDelayMs: 50,
      onInvalid: (_e, seq) => invalid.push(seq),
      handle: async (events) => {
        if (failFirst) {
          failFirst = false;
          throw new Error('transient');
        }
        sizes.push(events.length);
        handled.push(...events.map((e) => e.id));
      },
    });
    const deadline = Date.now() + 10_000;
    while (new Set(handled).size < 30 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    await handle.stop();
    expect(new Set(handled)).toEqual(new Set(Array.from({ length: 30 }, (_, n) => `e${n}`)));
    expect(handled).toHaveLength(30); // each handled once, the failed batch included
    expect(Math.max(...sizes)).toBeLessThanOrEqual(8);
    expect(sizes.some((n) => n > 1)).toBe(true);
    expect(invalid).toHaveLength(1);
    await (await nc.jetstreamManager()).streams.delete(batchedStream);
  });
});
