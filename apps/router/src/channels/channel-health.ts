import { Inject, Injectable } from '@nestjs/common';
import type { RouterConfig } from '@torouter/config';
import { APP_CONFIG } from '@torouter/service-runtime';

/** How one upstream attempt ended, as far as the channel's health is concerned. */
export interface ChannelFailure {
  /** HTTP status from the upstream, when it answered. */
  status?: number;
  /** Provider error type or the failure kind (timeout, connect…). */
  type: string;
  message: string;
  /** From the upstream's Retry-After, in ms. */
  retryAfterMs?: number;
}

export interface ChannelHealthView {
  /** healthy: in rotation; cooling_down: skipped until `cooldownUntil`; unhealthy: the upstream refused our credentials (401/403). */
  status: 'healthy' | 'cooling_down' | 'unhealthy';
  cooldownUntil: string | null;
  consecutiveFailures: number;
  /** Failed share of the attempts in the last 5 minutes (0..1), null without attempts. */
  recentErrorRate: number | null;
  recentRequests: number;
  lastError: { at: string; status: number | null; type: string; message: string } | null;
  lastSuccessAt: string | null;
  lastLatencyMs: number | null;
}

interface State {
  consecutiveFailures: number;
  /** Cool-downs in a row without a success in between; drives the exponential backoff. */
  streak: number;
  cooldownUntil: number;
  unhealthy: boolean;
  recent: Array<{ at: number; ok: boolean }>;
  lastError?: { at: number; status: number | null; type: string; message: string };
  lastSuccessAt?: number;
  lastLatencyMs?: number;
}

const RECENT_WINDOW_MS = 5 * 60_000;
const RECENT_MAX = 500;

/**
 * Per-replica health of each channel, fed by every upstream attempt. A channel that keeps failing
 * (`ROUTER_CHANNEL_FAILURE_THRESHOLD` failures in a row), that says 429, or that refuses our credentials
 * (401/403) cools down: it is skipped for an exponentially growing time (base × 2^streak, capped, at
 * least the upstream's Retry-After) and then tried again by itself; one success clears everything.
 * Kept in memory on purpose: it is per replica (each replica sees its own failures) and costs nothing
 * on the request path.
 */
@Injectable()
export class ChannelHealth {
  private readonly states = new Map<string, State>();
  private readonly baseMs: number;
  private readonly maxMs: number;
  private readonly threshold: number;

  constructor(@Inject(APP_CONFIG) config: RouterConfig) {
    this.baseMs = config.ROUTER_CHANNEL_COOLDOWN_BASE_MS;
    this.maxMs = config.ROUTER_CHANNEL_COOLDOWN_MAX_MS;
    this.threshold = config.ROUTER_CHANNEL_FAILURE_THRESHOLD;
  }

  private state(id: string): State {
    let s = this.states.get(id);
    if (!s) {
      s = { consecutiveFailures: 0, streak: 0, cooldownUntil: 0, unhealthy: false, recent: [] };
      this.states.set(id, s);
    }
    return s;
  }

  /** Whether the channel may be picked now (not cooling down). */
  isAvailable(id: string, now = Date.now()): boolean {
    const s = this.states.get(id);
    return !s || s.cooldownUntil <= now;
  }

  recordSuccess(id: string, latencyMs: number): void {
    const s = this.state(id);
    const now = Date.now();
    s.consecutiveFailures = 0;
    s.streak = 0;
    s.cooldownUntil = 0;
    s.unhealthy = false;
    s.lastSuccessAt = now;
    s.lastLatencyMs = Math.round(latencyMs);
    this.remember(s, now, true);
  }

  recordFailure(id: string, failure: ChannelFailure): void {
    const s = this.state(id);
    const now = Date.now();
    s.consecutiveFailures += 1;
    s.lastError = {
      at: now,
      status: failure.status ?? null,
      type: failure.type,
      message: failure.message.slice(0, 500),
    };
    this.remember(s, now, false);
    const credentialsRefused = failure.status === 401 || failure.status === 403;
    if (credentialsRefused) s.unhealthy = true;
    const immediate = credentialsRefused || failure.status === 429 || failure.status === 402;
    if (immediate || s.consecutiveFailures >= this.threshold) {
      const backoff = Math.min(this.maxMs, this.baseMs * 2 ** Math.min(s.streak, 20));
      s.streak += 1;
      s.cooldownUntil = now + Math.max(backoff, Math.min(failure.retryAfterMs ?? 0, this.maxMs));
      s.consecutiveFailures = 0;
    }
  }

  forget(id: string): void {
    this.states.delete(id);
  }

  view(id: string, now = Date.now()): ChannelHealthView {
    const s = this.states.get(id);
    if (!s) {
      return {
        status: 'healthy',
        cooldownUntil: null,
        consecutiveFailures: 0,
        recentErrorRate: null,
        recentRequests: 0,
        lastError: null,
        lastSuccessAt: null,
        lastLatencyMs: null,
      };
    }
    const recent = s.recent.filter((r) => r.at > now - RECENT_WINDOW_MS);
    const failed = recent.filter((r) => !r.ok).length;
    const cooling = s.cooldownUntil > now;
    return {
      status: s.unhealthy ? 'unhealthy' : cooling ? 'cooling_down' : 'healthy',
      cooldownUntil: cooling ? new Date(s.cooldownUntil).toISOString() : null,
      consecutiveFailures: s.consecutiveFailures,
      recentErrorRate: recent.length ? Math.round((failed / recent.length) * 1000) / 1000 : null,
      recentRequests: recent.length,
      lastError: s.lastError ? { ...s.lastError, at: new Date(s.lastError.at).toISOString() } : null,
      lastSuccessAt: s.lastSuccessAt ? new Date(s.lastSuccessAt).toISOString() : null,
      lastLatencyMs: s.lastLatencyMs ?? null,
    };
  }

  private remember(s: State, now: number, ok: boolean): void {
    s.recent.push({ at: now, ok });
    const cutoff = now - RECENT_WINDOW_MS;
    let drop = 0;
    while (drop < s.recent.length && (s.recent[drop].at <= cutoff || s.recent.length - drop > RECENT_MAX))
      drop++;
    if (drop) s.recent.splice(0, drop);
  }
}
