import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import type { RouterConfig } from '@torouter/config';
import { Subjects } from '@torouter/contracts';
import { RpcClient } from '@torouter/messaging';
import { APP_CONFIG } from '@torouter/service-runtime';
import { displayIp } from './ip-rules';

/** Keys remembered between flushes; beyond this the oldest pending record is dropped (never blocks). */
const maxPending = 100_000;
/** Entries per NATS message. */
const batchSize = 2_000;

interface LastUse {
  at: number;
  ip: string;
}

/**
 * Each key's "last used" time and IP, without a database round trip per request: requests update an
 * in-memory map (latest wins), and every ROUTER_KEY_LAST_USED_FLUSH_MS the router sends the batch to
 * keys (`keys.api-key.last-used.record.v1`), which writes it in one statement and never lets an older
 * record overwrite a newer one (several replicas flush independently). A failed flush is retried with
 * the next one; at shutdown the router flushes what is left.
 */
@Injectable()
export class KeyLastUsedRecorder implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(KeyLastUsedRecorder.name);
  private pending = new Map<string, LastUse>();
  private timer?: NodeJS.Timeout;
  private flushing?: Promise<void>;

  constructor(
    private readonly rpc: RpcClient,
    @Inject(APP_CONFIG) private readonly config: RouterConfig,
  ) {}

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => void this.flush(), this.config.ROUTER_KEY_LAST_USED_FLUSH_MS);
    this.timer.unref();
  }

  async onApplicationShutdown(): Promise<void> {
    clearInterval(this.timer);
    await this.flush();
  }

  record(keyId: string, clientIp: string, at = Date.now()): void {
    const seen = this.pending.get(keyId);
    if (seen && seen.at > at) return;
    if (!seen && this.pending.size >= maxPending)
      this.pending.delete(this.pending.keys().next().value as string);
    this.pending.set(keyId, { at, ip: displayIp(clientIp) });
  }

  /** Sends everything pending; concurrent calls share one flush. */
  flush(): Promise<void> {
    this.flushing ??= this.send().finally(() => (this.flushing = undefined));
    return this.flushing;
  }

  private async send(): Promise<void> {
    if (this.pending.size === 0) return;
    const batch = this.pending;
    this.pending = new Map();
    const entries = [...batch].map(([keyId, u]) => ({ keyId, at: new Date(u.at).toISOString(), ip: u.ip }));
    for (let i = 0; i < entries.length; i += batchSize) {
      const chunk = entries.slice(i, i + batchSize);
      try {
        await this.rpc.send(Subjects.keysApiKeyLastUsedRecord, { entries: chunk });
      } catch (e) {
        // Keep the unsent records for the next flush, unless newer ones arrived meanwhile.
        for (const rest of entries.slice(i)) this.record(rest.keyId, rest.ip, Date.parse(rest.at));
        this.logger.warn(
          `could not record keys' last use (will retry): ${e instanceof Error ? e.message : String(e)}`,
        );
        return;
      }
    }
  }
}
