import type { RouterConfig } from '@torouter/config';
import { Streams, streamName } from '@torouter/contracts';
import { EventBus } from '@torouter/messaging';
import { createRedisConnection } from '@torouter/service-runtime';
import type { Redis } from 'ioredis';
import { randomBytes, randomUUID } from 'node:crypto';
import { Registry } from 'prom-client';
import { UsageOutbox } from './usage-outbox';

/** The outbox against the real local Redis and JetStream, under its own namespace. */
describe('usage outbox (Redis stream → JetStream)', () => {
  const namespace = `outbox_${randomBytes(4).toString('hex')}`;
  const config = { TOROUTER_NAMESPACE: namespace, ROUTER_OUTBOX_CLAIM_IDLE_MS: 300 } as RouterConfig;
  let redis: Redis;
  let bus: EventBus;
  const outboxes: UsageOutbox[] = [];

  const startOutbox = async (connection: Redis) => {
    const outbox = new UsageOutbox(connection, bus, config, new Registry());
    outboxes.push(outbox);
    await outbox.onModuleInit();
    return outbox;
  };

  /** Message ids stored in the namespace's USAGE stream, in order. */
  const storedIds = async (): Promise<string[]> => {
    const jsm = await bus.connection.jetstreamManager();
    const name = streamName(namespace, Streams.usage.name);
    const { state } = await jsm.streams.info(name);
    const ids: string[] = [];
    for (let seq = state.first_seq; seq <= state.last_seq && state.messages > 0; seq++) {
      const msg = await jsm.streams.getMessage(name, { seq });
      ids.push(msg.header.get('Nats-Msg-Id'));
    }
    return ids;
  };

  const waitFor = async (check: () => Promise<boolean>, what: string) => {
    const deadline = Date.now() + 10_000;
    while (!(await check())) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  };

  beforeAll(async () => {
    redis = createRedisConnection('redis://127.0.0.1:6379', namespace, 'outbox-spec');
    await redis.connect();
    bus = await EventBus.connect('nats://127.0.0.1:4222', namespace, 'outbox-spec');
  });

  afterEach(async () => {
    await Promise.all(outboxes.splice(0).map((o) => o.onApplicationShutdown()));
  });

  afterAll(async () => {
    const jsm = await bus.connection.jetstreamManager();
    await jsm.streams.delete(streamName(namespace, Streams.usage.name)).catch(() => undefined);
    const keys = await redis.keys(`${namespace}:*`);
    if (keys.length) await redis.del(...keys.map((k) => k.slice(namespace.length + 1)));
    redis.disconnect();
    await bus.close();
  });

  it('forwards every entry once, including those a dead router read and never acknowledged, and empties the outbox', async () => {
    const fullKey = `${namespace}:${UsageOutbox.streamKey}`;
    await redis.xgroup('CREATE', fullKey, UsageOutbox.group, '0', 'MKSTREAM');
    const journaled = Array.from({ length: 8 }, () => randomUUID());
    for (const id of journaled) {
      await redis.xadd(UsageOutbox.streamKey, '*', 'id', id, 'event', JSON.stringify({ requestId: id }));
    }
    // A router read five of them, then died before forwarding: they sit in its pending list.
    const taken = (await redis.xreadgroup(
      'GROUP',
      UsageOutbox.group,
      'dead-router',
      'COUNT',
      5,
      'STREAMS',
      UsageOutbox.streamKey,
      '>',
    )) as Array<[string, unknown[]]>;
    expect(taken[0][1]).toHaveLength(5);

    await startOutbox(redis);
    await waitFor(async () => (await storedIds()).length >= 8, 'eight stored events');
    await waitFor(async () => (await redis.xlen(UsageOutbox.streamKey)) === 0, 'an empty outbox');

    const stored = await storedIds();
    expect(stored).toHaveLength(8);
    expect([...stored].sort()).toEqual([...journaled].sort());
    // The bytes consumers get are the journaled JSON, untouched.
    const jsm = await bus.connection.jetstreamManager();
    const first = await jsm.streams.getMessage(streamName(namespace, Streams.usage.name), {
      seq: (await jsm.streams.info(streamName(namespace, Streams.usage.name))).state.first_seq,
    });
    expect(JSON.parse(first.string())).toEqual({ requestId: first.header.get('Nats-Msg-Id') });
  });

  it('publishes straight to JetStream when Redis cannot take an event', async () => {
    const down = createRedisConnection('redis://127.0.0.1:1', namespace, 'outbox-spec-down');
    const outbox = await startOutbox(down);
    const requestId = randomUUID();
    await outbox.append({ requestId, json: JSON.stringify({ requestId }) });
    expect(await storedIds()).toContain(requestId);
    expect(outbox.strandedCount).toBe(0);
    down.disconnect();
  });
});
