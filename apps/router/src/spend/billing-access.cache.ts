import { Injectable, Logger, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import {
  AccountAccessChangedEvent,
  PlanChangedEvent,
  Subjects,
  type AccountAccessView,
  type PlanView,
} from '@torouter/contracts';
import { EventBus, RpcClient } from '@torouter/messaging';
import { Events, type Subscription } from 'nats';
import type { Caller } from '../access/access.service';

/** Safety net only: change events keep entries true; the TTL bounds staleness if an event is missed. */
const ttlMs = 60_000;
const negativeTtlMs = 10_000;
const maxEntries = 100_000;
/** While billing cannot be asked, an expired entry younger than this is still used (plans change rarely). */
const staleIfErrorMs = 15 * 60_000;

interface Entry<T> {
  value: T;
  expiresAt: number;
  loadedAt: number;
}

/**
 * Plans and account access (default plan, latest subscription per plan) from billing, held in router
 * memory so a request in steady state asks nothing over NATS. `billing.plan.changed.v1` and
 * `billing.account-access.changed.v1` (broadcast to every replica) evict entries; concurrent misses
 * share one call; billing unreachable → a copy expired less than 15 min ago is used, otherwise
 * `service_unavailable` (fail closed).
 */
@Injectable()
export class BillingAccessCache implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger(BillingAccessCache.name);
  private readonly plans = new Map<string, Entry<PlanView | null>>();
  private readonly access = new Map<string, Entry<AccountAccessView>>();
  private readonly inflight = new Map<string, Promise<unknown>>();
  /** Keys evicted while their load was in flight: that load's (possibly stale) answer is not cached. */
  private readonly evictedWhileLoading = new Set<string>();
  private readonly subscriptions: Subscription[] = [];

  constructor(
    private readonly rpc: RpcClient,
    private readonly events: EventBus,
  ) {}

  onModuleInit(): void {
    const onInvalid = (e: string) => this.logger.warn(`ignored malformed billing event: ${e}`);
    this.subscriptions.push(
      this.events.subscribe(
        Subjects.billingPlanChanged,
        PlanChangedEvent,
        (ev) => this.evict(`plan:${ev.planId}`),
        onInvalid,
      ),
      this.events.subscribe(
        Subjects.billingAccountAccessChanged,
        AccountAccessChangedEvent,
        (ev) => this.evict(`access:${ev.accountId}`),
        onInvalid,
      ),
    );
    this.watchReconnects().catch((e: unknown) =>
      this.logger.warn(`stopped watching NATS reconnects: ${String(e)}`),
    );
  }

  /** Change events are core NATS (at-most-once): after a reconnect, nothing cached can be trusted. */
  private async watchReconnects(): Promise<void> {
    for await (const s of this.events.connection.status()) {
      if (s.type === Events.Reconnect) {
        this.logger.warn('NATS reconnected: dropping every cached plan and account access');
        for (const id of [...this.plans.keys(), ...this.access.keys(), ...this.inflight.keys()])
          this.evict(id);
      }
    }
  }

  onModuleDestroy(): void {
    for (const s of this.subscriptions) s.unsubscribe();
  }

  plan(planId: string): Promise<PlanView | null> {
    return this.cached(
      this.plans,
      `plan:${planId}`,
      () => this.rpc.send(Subjects.billingPlanGet, { planId }),
      (p) => (p ? ttlMs : negativeTtlMs),
    );
  }

  accountAccess(accountId: string): Promise<AccountAccessView> {
    return this.cached(
      this.access,
      `access:${accountId}`,
      () => this.rpc.send(Subjects.billingAccountAccessGet, { accountId }),
      () => ttlMs,
    );
  }

  /** The caller's plan: the key's own, or (none set, or no longer existing) the account's default plan. */
  async planOf(caller: Caller): Promise<PlanView> {
    if (caller.planId) {
      const own = await this.plan(caller.planId);
      if (own) return own;
    }
    const access = await this.accountAccess(caller.accountId);
    const fallback = await this.plan(access.defaultPlanId);
    if (!fallback)
      throw new Error(`billing names ${access.defaultPlanId} as default plan but does not know it`);
    return fallback;
  }

  private cached<T>(
    store: Map<string, Entry<T>>,
    id: string,
    load: () => Promise<T>,
    ttl: (value: T) => number,
  ): Promise<T> {
    const hit = store.get(id);
    if (hit && hit.expiresAt > Date.now()) return Promise.resolve(hit.value);
    const pending = this.inflight.get(id) as Promise<T> | undefined;
    if (pending) return pending;
    const p = load()
      .then(
        (value) => {
          if (!this.evictedWhileLoading.delete(id)) {
            if (store.size >= maxEntries) store.delete(store.keys().next().value as string);
            const now = Date.now();
            store.set(id, { value, expiresAt: now + ttl(value), loadedAt: now });
          }
          return value;
        },
        (e: unknown) => {
          // Billing unreachable: a recent (expired, never evicted) copy beats refusing every request.
          if (hit && Date.now() - hit.loadedAt < staleIfErrorMs) {
            this.logger.warn(`billing unreachable; using a stale copy of ${id}: ${String(e)}`);
            return hit.value;
          }
          throw e;
        },
      )
      .finally(() => {
        this.inflight.delete(id);
        this.evictedWhileLoading.delete(id);
      });
    this.inflight.set(id, p);
    return p;
  }

  evict(id: string): void {
    (id.startsWith('plan:') ? this.plans : this.access).delete(id);
    if (this.inflight.has(id)) this.evictedWhileLoading.add(id);
  }
}
