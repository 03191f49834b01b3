import { Inject, Injectable, Logger, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import type { RouterConfig } from '@torouter/config';
import { Streams, Subjects, UsageRecordedEvent } from '@torouter/contracts';
import { ensureStream, EventBus, publishDurable } from '@torouter/messaging';
import { APP_CONFIG } from '@torouter/service-runtime';

/** Retries of one event before it is logged as lost: ~10 minutes with capped exponential backoff. */
const MAX_ATTEMPTS = 40;
const MAX_DELAY_MS = 30_000;
/** How long shutdown waits for events still being published. */
const SHUTDOWN_GRACE_MS = 5_000;

/**
 * Publishes the one usage event of each admitted request to JetStream (stream USAGE, message id = request
 * id, so a retried publish is stored once). Never on the response path: the client has its answer before
 * the publish starts. A publish that fails (NATS down, no ack) is retried with backoff; shutdown waits
 * for the events still in flight.
 */
@Injectable()
export class UsageEventsPublisher implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger(UsageEventsPublisher.name);
  private readonly inflight = new Set<Promise<void>>();
  private closing = false;

  constructor(
    private readonly events: EventBus,
    @Inject(APP_CONFIG) private readonly config: RouterConfig,
  ) {}

  async onModuleInit(): Promise<void> {
    await ensureStream(this.events.connection, this.config.TOROUTER_NAMESPACE, Streams.usage);
  }

  async onApplicationShutdown(): Promise<void> {
    this.closing = true;
    if (this.inflight.size === 0) return;
    await Promise.race([
      Promise.allSettled([...this.inflight]),
      new Promise((resolve) => setTimeout(resolve, SHUTDOWN_GRACE_MS).unref()),
    ]);
    if (this.inflight.size > 0) {
      this.logger.error(`${this.inflight.size} usage event(s) not yet acknowledged at shutdown`);
    }
  }

  /** Number of events not yet acknowledged by JetStream. */
  get pending(): number {
    return this.inflight.size;
  }

  publish(event: UsageRecordedEvent): void {
    const checked = UsageRecordedEvent.safeParse(event);
    if (!checked.success) {
      // A bug, not a runtime condition: consumers would drop it, so say so loudly (and still publish).
      this.logger.error(
        `usage event ${event.requestId} does not match its contract: ${checked.error.message}`,
      );
    }
    const job = this.deliver(event).finally(() => this.inflight.delete(job));
    this.inflight.add(job);
  }

  private async deliver(event: UsageRecordedEvent): Promise<void> {
    let delay = 250;
    for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
      try {
        await publishDurable(
          this.events.connection,
          this.config.TOROUTER_NAMESPACE,
          Subjects.routerRequestCompleted,
          event,
          event.requestId,
        );
        return;
      } catch (e) {
        if (this.closing && attempt > 1) break;
        this.logger.warn(
          `publishing usage event ${event.requestId} failed (attempt ${attempt}): ${e instanceof Error ? e.message : String(e)}`,
        );
        await new Promise((resolve) => setTimeout(resolve, delay).unref());
        delay = Math.min(delay * 2, MAX_DELAY_MS);
      }
    }
    this.logger.error({ usageEvent: event }, `usage event ${event.requestId} could not be published`);
  }
}
