import { Injectable, Logger, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { CatalogRepository } from './catalog.repository';
import type { ChannelEntity } from './channel.entity';
import type { ModelEntity } from './model.entity';

/** How often the in-memory catalog re-reads Postgres; admin changes will also push a refresh event. */
const refreshIntervalMs = 30_000;

/**
 * The model catalog and channels, held in memory so a proxied request never queries Postgres. Loaded
 * before the router accepts traffic and refreshed in the background; a failed refresh keeps the last good
 * snapshot.
 */
@Injectable()
export class CatalogCache implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger(CatalogCache.name);
  private models = new Map<string, ModelEntity>();
  private channels: ChannelEntity[] = [];
  private timer?: NodeJS.Timeout;
  /** Last time each channel was picked, for the least-recently-used tie-break. */
  private readonly lastPicked = new Map<string, number>();

  constructor(private readonly repo: CatalogRepository) {}

  async onModuleInit(): Promise<void> {
    await this.refresh();
    this.timer = setInterval(() => {
      this.refresh().catch((e: unknown) => this.logger.warn(`catalog refresh failed: ${String(e)}`));
    }, refreshIntervalMs);
    this.timer.unref();
  }

  onApplicationShutdown(): void {
    clearInterval(this.timer);
  }

  async refresh(): Promise<void> {
    const [models, channels] = await Promise.all([this.repo.listModels(), this.repo.listChannels()]);
    this.models = new Map(models.map((m) => [m.id, m]));
    this.channels = channels;
  }

  model(id: string): ModelEntity | undefined {
    return this.models.get(id);
  }

  listModels(): ModelEntity[] {
    return [...this.models.values()];
  }

  /**
   * Channels that may serve `model` now, best first: enabled and listing the model → lowest priority
   * value → least recently used → weighted random among equals. `exclude` holds channels already tried
   * in this request, so failover never returns to the same channel.
   */
  candidates(model: string, exclude: ReadonlySet<string> = new Set()): ChannelEntity[] {
    const eligible = this.channels.filter((c) => c.enabled && !exclude.has(c.id) && c.models.includes(model));
    eligible.sort(
      (a, b) =>
        a.priority - b.priority || (this.lastPicked.get(a.id) ?? 0) - (this.lastPicked.get(b.id) ?? 0),
    );
    if (eligible.length < 2) return eligible;
    // Weighted random among the leading channels that tie on priority and last use.
    const head = eligible[0];
    const tier = eligible.filter(
      (c) =>
        c.priority === head.priority &&
        (this.lastPicked.get(c.id) ?? 0) === (this.lastPicked.get(head.id) ?? 0),
    );
    if (tier.length > 1) {
      const total = tier.reduce((s, c) => s + Math.max(c.weight, 0), 0);
      let r = Math.random() * total;
      const chosen = tier.find((c) => (r -= Math.max(c.weight, 0)) < 0) ?? tier[0];
      return [chosen, ...eligible.filter((c) => c !== chosen)];
    }
    return eligible;
  }

  markPicked(channelId: string): void {
    this.lastPicked.set(channelId, performance.now());
  }
}
