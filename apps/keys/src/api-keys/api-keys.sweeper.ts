import { Injectable, Logger, type OnApplicationShutdown, type OnApplicationBootstrap } from '@nestjs/common';
import { ApiKeysService } from './api-keys.service';

const sweepIntervalMs = 15_000;
const pruneEveryNSweeps = 240; // about hourly

/**
 * Housekeeping only: finalises rotated keys whose grace period ended (marks them deleted, announces it)
 * and prunes old spend idempotency entries. Correctness never waits for it: lookups and routers already
 * treat a key past its `deleteAt` as deleted. Several replicas may sweep at once (rows are claimed with
 * SKIP LOCKED).
 */
@Injectable()
export class ApiKeysSweeper implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(ApiKeysSweeper.name);
  private timer?: NodeJS.Timeout;
  private sweeps = 0;
  private running?: Promise<void>;

  constructor(private readonly apiKeys: ApiKeysService) {}

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => {
      if (!this.running) this.running = this.sweep().finally(() => (this.running = undefined));
    }, sweepIntervalMs);
    this.timer.unref();
  }

  async onApplicationShutdown(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
  }

  async sweep(): Promise<void> {
    try {
      const finalised = await this.apiKeys.finaliseDueDeletions();
      if (finalised) this.logger.log(`deleted ${finalised} rotated key(s) at the end of their grace period`);
      if (++this.sweeps % pruneEveryNSweeps === 0) await this.apiKeys.pruneSpendEntries();
    } catch (e) {
      this.logger.warn(`key sweep failed (will retry): ${e instanceof Error ? e.message : String(e)}`);
    }
  }
}
