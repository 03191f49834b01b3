import type { KeysClient } from './keys.client';
import type { UsageSettlementsRepository } from './usage-settlements.repository';

export interface KeySpendOutboxOptions {
  /** Outbox rows read per round. */
  batch?: number;
  /** Calls to keys at once. */
  parallel?: number;
  /** How often rows left behind (keys or Postgres unreachable, another replica's) are retried. */
  retryIntervalMs?: number;
  /**
   * How long a kick waits before sending (ms), so the rows of many settlement transactions go to keys in
   * one round instead of one round (two queries and a call to keys) per transaction.
   */
  gatherMs?: number;
  warn(message: string): void;
}

/**
 * Tells keys what billing has settled on each key (`billing.key_spend_outbox`, written in the settlement
 * transactions): after each commit, and on a timer for what could not be sent. A row is deleted once keys
 * has it; keys dedupes by the row's id, so sending it again (a crash before the delete, two replicas at
 * once) never counts it twice. Settlement never waits for keys.
 */
export class KeySpendOutbox {
  private readonly batch: number;
  private readonly parallel: number;
  private running?: Promise<void>;
  private again = false;
  private timer?: NodeJS.Timeout;
  private gathering?: NodeJS.Timeout;
  private lastWarnAt = 0;

  constructor(
    private readonly settlements: UsageSettlementsRepository,
    private readonly keys: KeysClient,
    private readonly options: KeySpendOutboxOptions,
  ) {
    this.batch = options.batch ?? 200;
    this.parallel = options.parallel ?? 8;
  }

  start(): void {
    this.timer = setInterval(() => this.kick(), this.options.retryIntervalMs ?? 2000);
    this.timer.unref();
    this.kick();
  }

  /**
   * Sends what is due shortly: kicks within `gatherMs` share one round. Keys' displayed spend is eventually
   * consistent anyway (limits are enforced on the router's Redis counters, not on it).
   */
  kickSoon(): void {
    const gatherMs = this.options.gatherMs ?? 250;
    if (gatherMs <= 0) return this.kick();
    if (this.gathering) return;
    this.gathering = setTimeout(() => {
      this.gathering = undefined;
      this.kick();
    }, gatherMs);
    this.gathering.unref();
  }

  /** Sends what is due now (or right after the round in progress). */
  kick(): void {
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = this.drain()
      .catch((e: unknown) => {
        // Once in a while, not after every batch while keys is down.
        if (Date.now() - this.lastWarnAt < 30_000) return;
        this.lastWarnAt = Date.now();
        this.options.warn(`key spend not sent to keys yet (will retry): ${String(e)}`);
      })
      .finally(() => {
        this.running = undefined;
        if (this.again) {
          this.again = false;
          this.kick();
        }
      });
  }

  /** Stops the timer and makes a last attempt; what is still due is sent by the next process. */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    clearTimeout(this.gathering);
    this.gathering = undefined;
    this.again = false;
    await this.running;
    this.kick();
    this.again = false;
    await this.running;
  }

  private async drain(): Promise<void> {
    for (;;) {
      const due = await this.settlements.dueKeySpends(this.batch);
      if (!due.length) return;
      const sent: string[] = [];
      let failure: unknown;
      let next = 0;
      const lane = async () => {
        while (next < due.length && failure === undefined) {
          const d = due[next++];
          try {
            await this.keys.addSpend(d.keyId, d.spendId, d.amountMicro);
            sent.push(d.spendId);
          } catch (e) {
            failure = e;
          }
        }
      };
      await Promise.all(Array.from({ length: Math.min(this.parallel, due.length) }, lane));
      await this.settlements.deleteKeySpends(sent);
      if (failure !== undefined)
        throw failure instanceof Error ? failure : new Error('keys did not take the spend');
      if (due.length < this.batch) return;
    }
  }
}
