export interface SettlementBatcherOptions<T> {
  /** Most items one run takes (one Postgres transaction). */
  maxBatch: number;
  /** Runs at once; items that arrive meanwhile wait and go together into the next run. */
  maxInFlight: number;
  /**
   * Items with the same key never run in two runs at once (the account: its row is locked by every ledger
   * entry until the commit, so a second transaction would only wait for the first, then walk the row
   * versions the first left). They wait for the next run instead, which then takes them all.
   */
  keyOf(item: T): string;
  /** Called with the size of each run (a metric). */
  onBatch?(size: number): void;
  /**
   * How long a run that could start at once waits for more items (ms; 0: the same event-loop turn only).
   * At a low rate jobs arrive one by one, and one transaction (with its Redis and keys work) per job
   * costs every process several times more per event; under load runs are full anyway and never wait.
   */
  gatherMs?: number;
}

interface Waiting<T, R> {
  item: T;
  resolve(result: R): void;
  reject(error: unknown): void;
}

/** Postgres deadlock_detected and serialization_failure: the transaction did nothing and may simply rerun. */
function isTransient(e: unknown): boolean {
  const err = e as { code?: string; driverError?: { code?: string } };
  const code = err?.code ?? err?.driverError?.code;
  return code === '40P01' || code === '40001';
}

const transientAttempts = 3;

/**
 * Group commit for settlement jobs: each BullMQ job submits its event and waits; whatever has been
 * submitted while the previous runs were busy goes into the next run together, so under load a run (one
 * transaction, one fsync) settles many jobs and when idle a job waits for nobody. A run that fails is
 * retried at once if Postgres only reported a deadlock; otherwise its items are rerun one by one, so an
 * item that cannot be settled fails alone (its job is retried by BullMQ) and holds back no other.
 */
export class SettlementBatcher<T, R> {
  private waiting: Array<Waiting<T, R>> = [];
  private readonly busy = new Set<string>();
  private inFlight = 0;
  private scheduled = false;

  constructor(
    private readonly run: (items: T[]) => Promise<R[]>,
    private readonly options: SettlementBatcherOptions<T>,
  ) {}

  submit(item: T): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      this.waiting.push({ item, resolve, reject });
      this.schedule();
    });
  }

  /** Items submitted in the same turn of the event loop (or within `gatherMs`) share a run. */
  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    const go = () => {
      this.scheduled = false;
      this.drain();
    };
    const gatherMs = this.options.gatherMs ?? 0;
    if (gatherMs > 0 && this.waiting.length < this.options.maxBatch) setTimeout(go, gatherMs);
    else setImmediate(go);
  }

  private drain(): void {
    while (this.inFlight < this.options.maxInFlight && this.waiting.length) {
      const batch = this.take();
      if (!batch.length) return; // everything waiting belongs to a run in flight
      const keys = new Set(batch.map((w) => this.options.keyOf(w.item)));
      for (const k of keys) this.busy.add(k);
      this.inFlight++;
      void this.settle(batch).finally(() => {
        for (const k of keys) this.busy.delete(k);
        this.inFlight--;
        this.drain();
      });
    }
  }

  /** The oldest waiting items whose keys no run in flight holds, up to a batch. */
  private take(): Array<Waiting<T, R>> {
    const batch: Array<Waiting<T, R>> = [];
    const rest: Array<Waiting<T, R>> = [];
    for (const w of this.waiting) {
      if (batch.length < this.options.maxBatch && !this.busy.has(this.options.keyOf(w.item))) batch.push(w);
      else rest.push(w);
    }
    this.waiting = rest;
    return batch;
  }

  private async settle(batch: Array<Waiting<T, R>>): Promise<void> {
    this.options.onBatch?.(batch.length);
    try {
      const results = await this.attempt(batch.map((w) => w.item));
      batch.forEach((w, i) => w.resolve(results[i]));
      return;
    } catch (e) {
      if (batch.length === 1) {
        batch[0].reject(e);
        return;
      }
    }
    // One at a time, not all at once: this is the rare path, and it must not take the whole pool.
    for (const w of batch) {
      try {
        w.resolve((await this.attempt([w.item]))[0]);
      } catch (e) {
        w.reject(e);
      }
    }
  }

  private async attempt(items: T[]): Promise<R[]> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.run(items);
      } catch (e) {
        if (attempt >= transientAttempts || !isTransient(e)) throw e;
      }
    }
  }
}
