import { Inject, Injectable, Logger, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import {
  AccountChangedEvent,
  ApiKeyChangedEvent,
  Subjects,
  type AccountStatus,
  type ApiKeyPolicy,
} from '@torouter/contracts';
import { EventBus, RpcClient } from '@torouter/messaging';
import { Events, type Subscription } from 'nats';
import { cacheMetrics } from '@torouter/observability';
import { METRICS_REGISTRY } from '@torouter/service-runtime';
import type { Registry } from 'prom-client';

/** Safety net only: change events keep entries true; the TTL bounds staleness if an event is ever missed. */
const positiveTtlMs = 60_000;
const negativeTtlMs = 10_000;
const maxEntries = 100_000;

interface Entry<T> {
  value: T;
  expiresAt: number;
}

/**
 * In-process cache of key policies (by key hash) and account statuses (by account id), so a proxied
 * request in steady state makes no NATS call. A miss asks `keys`/`auth` once (concurrent misses share
 * the call). `keys.api-key.changed.v1` and `auth.account.changed.v1` events, delivered to EVERY router
 * replica, evict entries, so edits, disables and deletes are obeyed on the next request.
 */
@Injectable()
export class KeyPolicyCache implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger(KeyPolicyCache.name);
  private readonly keys = new Map<string, Entry<ApiKeyPolicy>>();
  private readonly accounts = new Map<string, Entry<AccountStatus>>();
  private readonly inflightKeys = new Map<string, Promise<ApiKeyPolicy>>();
  private readonly inflightAccounts = new Map<string, Promise<AccountStatus>>();
  private readonly subscriptions: Subscription[] = [];
  hits = 0;
  misses = 0;

  private readonly lookups;

  constructor(
    private readonly rpc: RpcClient,
    private readonly events: EventBus,
    @Inject(METRICS_REGISTRY) registry: Registry,
  ) {
    this.lookups = cacheMetrics(registry).lookups;
  }

  onModuleInit(): void {
    const onInvalid = (e: string) => this.logger.warn(`ignored malformed change event: ${e}`);
    this.subscriptions.push(
      this.events.subscribe(
        Subjects.keysApiKeyChanged,
        ApiKeyChangedEvent,
        (ev) => this.evictKey(ev.keyHash),
        onInvalid,
      ),
      this.events.subscribe(
        Subjects.authAccountChanged,
        AccountChangedEvent,
        (ev) => this.evictAccount(ev.accountId),
        onInvalid,
      ),
    );
    this.watchReconnects().catch((e: unknown) =>
      this.logger.warn(`stopped watching NATS reconnects: ${e instanceof Error ? e.message : String(e)}`),
    );
  }

  onModuleDestroy(): void {
    for (const s of this.subscriptions) s.unsubscribe();
  }

  /**
   * Change events published while this replica was disconnected from NATS are lost (core NATS is
   * at-most-once): after a reconnect, nothing cached can be trusted, so everything is dropped.
   */
  private async watchReconnects(): Promise<void> {
    for await (const s of this.events.connection.status()) {
      if (s.type === Events.Reconnect) {
        this.logger.warn('NATS reconnected: dropping every cached key policy and account status');
        this.clear();
      }
    }
  }

  /** Forgets everything (the next request of each key asks keys/auth again). */
  clear(): void {
    for (const id of this.inflightKeys.keys()) this.evictedWhileLoading.add(id);
    for (const id of this.inflightAccounts.keys()) this.evictedWhileLoading.add(id);
    this.keys.clear();
    this.accounts.clear();
  }

  policy(keyHash: string): Promise<ApiKeyPolicy> {
    return this.cached(
      this.keys,
      this.inflightKeys,
      keyHash,
      async () => {
        return this.rpc.send(Subjects.keysApiKeyLookup, { keyHash });
      },
      (p) => (p.found ? positiveTtlMs : negativeTtlMs),
    );
  }

  account(accountId: string): Promise<AccountStatus> {
    return this.cached(
      this.accounts,
      this.inflightAccounts,
      accountId,
      () => this.rpc.send(Subjects.authAccountStatusGet, { accountId }),
      () => positiveTtlMs,
    );
  }

  private cached<T>(
    store: Map<string, Entry<T>>,
    inflight: Map<string, Promise<T>>,
    id: string,
    load: () => Promise<T>,
    ttl: (value: T) => number,
  ): Promise<T> {
    const cache = store === this.keys ? 'key_policy' : 'account_status';
    const hit = store.get(id);
    if (hit && hit.expiresAt > Date.now()) {
      this.hits++;
      this.lookups.inc({ cache, result: 'hit' });
      return Promise.resolve(hit.value);
    }
    const pending = inflight.get(id);
    if (pending) return pending;
    this.misses++;
    this.lookups.inc({ cache, result: 'miss' });
    const p = load()
      .then((value) => {
        // A change event that arrived while this load was in flight wins over its possibly stale answer.
        if (!this.evictedWhileLoading.delete(id)) {
          if (store.size >= maxEntries) store.delete(store.keys().next().value as string);
          store.set(id, { value, expiresAt: Date.now() + ttl(value) });
        }
        return value;
      })
      .finally(() => {
        inflight.delete(id);
        this.evictedWhileLoading.delete(id);
      });
    inflight.set(id, p);
    return p;
  }

  private readonly evictedWhileLoading = new Set<string>();

  evictKey(keyHash: string): void {
    this.keys.delete(keyHash);
    if (this.inflightKeys.has(keyHash)) this.evictedWhileLoading.add(keyHash);
  }

  evictAccount(accountId: string): void {
    this.accounts.delete(accountId);
    if (this.inflightAccounts.has(accountId)) this.evictedWhileLoading.add(accountId);
  }
}
