import { namespaced, type EventContracts, type EventSubject } from '@torouter/contracts';
import { connect, JSONCodec, type NatsConnection, type Subscription } from 'nats';
import type { z } from 'zod';

const codec = JSONCodec();

/**
 * Broadcast events over core NATS, typed by `EventContracts`. Subscriptions here deliberately have NO
 * queue group: every replica must see every cache-invalidation event (`keys.api-key.changed.v1`).
 * Events that must never be lost (usage) go through JetStream instead, not through this class.
 */
export class EventBus {
  private constructor(
    readonly connection: NatsConnection,
    private readonly namespace: string,
  ) {}

  static async connect(natsUrl: string, namespace: string, name: string): Promise<EventBus> {
    const connection = await connect({
      servers: natsUrl.split(','),
      name,
      reconnect: true,
      maxReconnectAttempts: -1,
      reconnectTimeWait: 500,
    });
    return new EventBus(connection, namespace);
  }

  publish<S extends EventSubject>(subject: S, event: EventContracts[S]): void {
    this.connection.publish(namespaced(this.namespace, subject), codec.encode(event));
  }

  /** Calls `handler` for every valid event; malformed ones are reported to `onInvalid` and skipped. */
  subscribe<S extends EventSubject>(
    subject: S,
    schema: z.ZodType<EventContracts[S], z.ZodTypeDef, unknown>,
    handler: (event: EventContracts[S]) => void,
    onInvalid: (error: string) => void = () => undefined,
  ): Subscription {
    return this.connection.subscribe(namespaced(this.namespace, subject), {
      callback: (err, msg) => {
        if (err) return onInvalid(err.message);
        let data: unknown;
        try {
          data = codec.decode(msg.data);
        } catch {
          return onInvalid('not JSON');
        }
        const parsed = schema.safeParse(data);
        if (!parsed.success) return onInvalid(parsed.error.message);
        handler(parsed.data);
      },
    });
  }

  /** One round trip to the server: proves the connection is usable right now. */
  async ping(timeoutMs = 1000): Promise<void> {
    if (this.connection.isClosed()) throw new Error('NATS connection closed');
    await Promise.race([
      this.connection.flush(),
      new Promise((_, reject) =>
        setTimeout(() => reject(new Error(`NATS did not answer in ${timeoutMs} ms`)), timeoutMs).unref(),
      ),
    ]);
  }

  async close(): Promise<void> {
    if (!this.connection.isClosed()) await this.connection.drain();
  }
}
