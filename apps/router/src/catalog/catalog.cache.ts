import { Injectable, Logger, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { CatalogChangedEvent, Subjects } from '@torouter/contracts';
import { EventBus } from '@torouter/messaging';
import type { Subscription } from 'nats';
import { CatalogRepository } from './catalog.repository';
import type { ChannelEntity } from './channel.entity';
import type { ModelEntity } from './model.entity';

/** Safety net only: `router.catalog.changed.v1` events trigger a reload on every replica at once. */
const refreshIntervalMs = 30_000;

export interface CandidateFilter {
  /** Channels already tried in this request: failover never returns to one. */
  exclude?: ReadonlySet<string>;
  /** The caller's plan; channels restricted to other plans are not eligible. */
  planId?: string | null;
  /** False for channels that may not be picked now (cooling down). */
  available?: (channelId: string) => boolean;
  /** Only channels of these types (vendor-prefixed model ids go to OpenRouter only). */
  types?: ReadonlySet<string>;
}

/**
 * The model catalog and channels, held in memory so a proxied request never queries Postgres. Loaded
 * before the router accepts traffic; reloaded on every `router.catalog.changed.v1` broadcast (an admin
 * change on any replica) and, as a safety net, every 30 s. A failed reload keeps the last good snapshot.
 */
@Injectable()
export class CatalogCache implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger(CatalogCache.name);
  private models = new Map<string, ModelEntity>();
  private channels: ChannelEntity[] = [];
  private timer?: NodeJS.Timeout;
  private subscription?: Subscription;
  /** Last time each channel was picked, for the least-recently-used tie-break. */
  private readonly lastPicked = new Map<string, number>();
  private refreshing?: Promise<void>;
  private refreshAgain = false;
  private readonly listeners: Array<(channels: readonly ChannelEntity[]) => void> = [];

  constructor(
    private readonly repo: CatalogRepository,
    private readonly events: EventBus,
  ) {}

  async onModuleInit(): Promise<void> {
    await this.refresh();
    this.subscription = this.events.subscribe(
      Subjects.routerCatalogChanged,
      CatalogChangedEvent,
      () =>
        void this.refresh().catch((e: unknown) => this.logger.warn(`catalog reload failed: ${String(e)}`)),
      (e) => this.logger.warn(`ignored malformed catalog event: ${e}`),
    );
    this.timer = setInterval(() => {
      this.refresh().catch((e: unknown) => this.logger.warn(`catalog refresh failed: ${String(e)}`));
    }, refreshIntervalMs);
    this.timer.unref();
  }

  onApplicationShutdown(): void {
    clearInterval(this.timer);
    this.subscription?.unsubscribe();
  }

  /** Called with the new channel list after every reload. */
  onChannelsChanged(listener: (channels: readonly ChannelEntity[]) => void): void {
    this.listeners.push(listener);
  }

  /**
   * Reloads from Postgres. Concurrent calls share one reload, and a call that arrives during a reload
   * triggers one more afterwards, so a change committed meanwhile is never missed.
   */
  refresh(): Promise<void> {
    if (this.refreshing) {
      this.refreshAgain = true;
      return this.refreshing;
    }
    const run = async (): Promise<void> => {
      do {
        this.refreshAgain = false;
        const [models, channels] = await Promise.all([
          this.repo.listModels(),
          this.repo.listChannelsWithCredentials(),
        ]);
        this.models = new Map(models.map((m) => [m.id, m]));
        this.channels = channels;
        for (const listener of this.listeners) listener(channels);
      } while (this.refreshAgain);
    };
    this.refreshing = run().finally(() => {
      this.refreshing = undefined;
    });
    return this.refreshing;
  }

  /** Tells every replica (this one included) to reload, after an admin change. */
  async changed(reason: string): Promise<void> {
    await this.refresh();
    this.events.publish(Subjects.routerCatalogChanged, { reason });
  }

  model(id: string): ModelEntity | undefined {
    return this.models.get(id);
  }

  listModels(): ModelEntity[] {
    return [...this.models.values()];
  }

  listChannels(): readonly ChannelEntity[] {
    return this.channels;
  }

  channel(id: string): ChannelEntity | undefined {
    return this.channels.find((c) => c.id === id);
  }

  /** Whether any enabled channel the plan may use serves `model` (for model listings). */
  servable(model: string, planId: string | null): boolean {
    return this.channels.some((c) => c.enabled && c.models.includes(model) && planAllows(c, planId));
  }

  /**
   * Channels that may serve `model` now, best first: enabled, listing the model, allowed for the plan,
   * not cooling down, not tried yet → lowest priority value → least recently used (to the second) →
   * weighted random among equals.
   */
  candidates(model: string, filter: CandidateFilter = {}): ChannelEntity[] {
    const planId = filter.planId ?? null;
    const eligible = this.channels.filter(
      (c) =>
        c.enabled &&
        c.models.includes(model) &&
        !filter.exclude?.has(c.id) &&
        planAllows(c, planId) &&
        (!filter.types || filter.types.has(c.type)) &&
        (!filter.available || filter.available(c.id)),
    );
    // Last use in whole seconds: channels used within the same second tie, so under steady traffic the
    // weights decide the split, and an idle channel is still preferred over one that just served.
    const last = (c: ChannelEntity) => Math.floor((this.lastPicked.get(c.id) ?? 0) / 1000);
    eligible.sort((a, b) => a.priority - b.priority || last(a) - last(b));
    if (eligible.length < 2) return eligible;
    // Weighted random among the leading channels that tie on priority and last use.
    const head = eligible[0];
    const tier = eligible.filter((c) => c.priority === head.priority && last(c) === last(head));
    if (tier.length > 1) {
      const total = tier.reduce((s, c) => s + Math.max(c.weight, 0), 0);
      if (total <= 0) return eligible;
      let r = Math.random() * total;
      const chosen = tier.find((c) => (r -= Math.max(c.weight, 0)) < 0) ?? tier[0];
      return [chosen, ...eligible.filter((c) => c !== chosen)];
    }
    return eligible;
  }

  markPicked(channelId: string): void {
    this.lastPicked.set(channelId, Date.now());
  }
}

function planAllows(channel: ChannelEntity, planId: string | null): boolean {
  return channel.plans.length === 0 || (planId !== null && channel.plans.includes(planId));
}
