import { Injectable, Logger, type OnModuleDestroy } from '@nestjs/common';

/**
 * Work done after the reply (e.g. looking up an address and emailing it a link), so the reply takes the
 * same time whether or not the address has an account. Failures are logged; shutdown waits for it.
 */
@Injectable()
export class BackgroundTasks implements OnModuleDestroy {
  private readonly logger = new Logger(BackgroundTasks.name);
  private readonly running = new Set<Promise<void>>();

  run(name: string, work: () => Promise<void>): void {
    const p = Promise.resolve()
      .then(work)
      .catch((e: unknown) => {
        this.logger.error(`${name} failed: ${e instanceof Error ? e.message : String(e)}`);
      })
      .finally(() => this.running.delete(p));
    this.running.add(p);
  }

  async onModuleDestroy(): Promise<void> {
    await Promise.allSettled([...this.running]);
  }
}
