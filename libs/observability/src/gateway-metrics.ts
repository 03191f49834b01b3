import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

/**
 * The gateway's Prometheus metrics, defined once so every service names and labels them the same way
 * (`torouter_<what>_total` for counters, `torouter_<what>_seconds` for durations, base units only).
 *
 * Each function registers its group on the app's own registry the first time and returns the same
 * instances afterwards, so two modules of one app can both ask for a group without a duplicate-name
 * error, and several apps in one process (tests) keep separate registries.
 *
 * Label values must stay low-cardinality: routes are route patterns (never raw URLs), models are catalog
 * ids, channels are channel names, codes are `ErrorCodes` values. Never an account, key or request id.
 */

/** Request and upstream durations: from a fast cache hit to a long stream. */
export const DURATION_BUCKETS_SECONDS = [
  0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300,
];
/** What the gateway itself adds to a request: sub-millisecond to a few hundred ms. */
export const OVERHEAD_BUCKETS_SECONDS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1];
/** Event delivery lag: from a second to hours (a consumer that was down). */
export const LAG_BUCKETS_SECONDS = [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 300, 900, 3600, 21600];

function getOrCreate<M>(registry: Registry, name: string, create: () => M): M {
  return (registry.getSingleMetric(name) as M | undefined) ?? create();
}

function counter<L extends string>(registry: Registry, name: string, help: string, labelNames: L[]) {
  return getOrCreate(registry, name, () => new Counter<L>({ name, help, labelNames, registers: [registry] }));
}

function histogram<L extends string>(
  registry: Registry,
  name: string,
  help: string,
  labelNames: L[],
  buckets: number[],
) {
  return getOrCreate(
    registry,
    name,
    () => new Histogram<L>({ name, help, labelNames, buckets, registers: [registry] }),
  );
}

function gauge<L extends string>(registry: Registry, name: string, help: string, labelNames: L[]) {
  return getOrCreate(registry, name, () => new Gauge<L>({ name, help, labelNames, registers: [registry] }));
}

/** Every HTTP server (router public API; internal services' health ports). Wire in an onResponse hook. */
export function httpServerMetrics(registry: Registry) {
  return {
    /** torouter_http_requests_total{route,method,status} */
    requests: counter(registry, 'torouter_http_requests_total', 'HTTP requests answered', [
      'route',
      'method',
      'status',
    ]),
    /** torouter_http_request_duration_seconds{route,method,status} */
    duration: histogram(
      registry,
      'torouter_http_request_duration_seconds',
      'Time from request received to response finished',
      ['route', 'method', 'status'],
      DURATION_BUCKETS_SECONDS,
    ),
  };
}

/** The router's data plane: one observation per proxied request, by surface, model and final status. */
export function relayMetrics(registry: Registry) {
  return {
    /** torouter_relay_requests_total{surface,model,status}; status = success|error|cancelled|refused */
    requests: counter(registry, 'torouter_relay_requests_total', 'Data-plane requests by outcome', [
      'surface',
      'model',
      'status',
    ]),
    /** torouter_relay_request_duration_seconds{surface,model,status} */
    duration: histogram(
      registry,
      'torouter_relay_request_duration_seconds',
      'Data-plane request duration, first byte in to last byte out',
      ['surface', 'model', 'status'],
      DURATION_BUCKETS_SECONDS,
    ),
    /** torouter_relay_time_to_first_token_seconds{surface,model} (streams) */
    timeToFirstToken: histogram(
      registry,
      'torouter_relay_time_to_first_token_seconds',
      'Time from request received to the first streamed token sent',
      ['surface', 'model'],
      DURATION_BUCKETS_SECONDS,
    ),
    /** torouter_gateway_overhead_seconds{surface}: total time minus time spent waiting on upstreams. */
    overhead: histogram(
      registry,
      'torouter_gateway_overhead_seconds',
      'Time the gateway itself added (admission, routing, transcoding), upstream time excluded',
      ['surface'],
      OVERHEAD_BUCKETS_SECONDS,
    ),
    /** torouter_relay_tokens_total{model,kind}; kind = input|output|cache_read|cache_write_5m|cache_write_1h|reasoning */
    tokens: counter(registry, 'torouter_relay_tokens_total', 'Tokens processed, by model and kind', [
      'model',
      'kind',
    ]),
  };
}

/** Calls to upstream providers, one per attempt (failovers count separately). */
export function upstreamMetrics(registry: Registry) {
  return {
    /** torouter_upstream_requests_total{channel,model,outcome}; outcome = success|error|timeout|… */
    requests: counter(registry, 'torouter_upstream_requests_total', 'Upstream attempts by outcome', [
      'channel',
      'model',
      'outcome',
    ]),
    /** torouter_upstream_request_duration_seconds{channel,model,outcome} */
    duration: histogram(
      registry,
      'torouter_upstream_request_duration_seconds',
      'Upstream attempt duration, request sent to last byte received',
      ['channel', 'model', 'outcome'],
      DURATION_BUCKETS_SECONDS,
    ),
    /** torouter_upstream_errors_total{channel,kind}; kind = http_4xx|http_5xx|rate_limited|timeout|network|protocol */
    errors: counter(registry, 'torouter_upstream_errors_total', 'Upstream attempts that failed, by kind', [
      'channel',
      'kind',
    ]),
    /** torouter_channel_available{channel}: 1 routable, 0 disabled or cooling down. */
    channelAvailable: gauge(
      registry,
      'torouter_channel_available',
      'Whether a channel is currently routable (1) or disabled/cooling down (0)',
      ['channel'],
    ),
  };
}

/** Requests refused before reaching an upstream (DECISIONS.md codes: never billed, never sent upstream). */
export function admissionMetrics(registry: Registry) {
  return {
    /** torouter_refusals_total{code,surface} */
    refusals: counter(registry, 'torouter_refusals_total', 'Requests refused by admission, by error code', [
      'code',
      'surface',
    ]),
    /** torouter_admission_duration_seconds{step} */
    stepDuration: histogram(
      registry,
      'torouter_admission_duration_seconds',
      'Time each admission step took',
      ['step'],
      OVERHEAD_BUCKETS_SECONDS,
    ),
  };
}

/** In-process caches (key policies, accounts, catalog, plans). */
export function cacheMetrics(registry: Registry) {
  return {
    /** torouter_cache_lookups_total{cache,result}; result = hit|miss|negative_hit */
    lookups: counter(registry, 'torouter_cache_lookups_total', 'Cache lookups by result', [
      'cache',
      'result',
    ]),
    /** torouter_cache_entries{cache} */
    entries: gauge(registry, 'torouter_cache_entries', 'Entries currently cached', ['cache']),
    /** torouter_cache_evictions_total{cache,reason}; reason = event|ttl|capacity */
    evictions: counter(registry, 'torouter_cache_evictions_total', 'Cache entries evicted, by reason', [
      'cache',
      'reason',
    ]),
  };
}

/**
 * Durable event pipelines (JetStream usage events, BullMQ settlement): published, consumed, how late, how
 * much is waiting. `consumer` is the durable/queue name (`usage-log`, `billing-settlement`).
 */
export function eventPipelineMetrics(registry: Registry) {
  return {
    /** torouter_events_published_total{stream,result}; result = stored|duplicate|failed */
    published: counter(registry, 'torouter_events_published_total', 'Durable events published', [
      'stream',
      'result',
    ]),
    /** torouter_events_consumed_total{consumer,result}; result = applied|duplicate|invalid|failed */
    consumed: counter(registry, 'torouter_events_consumed_total', 'Durable events handled, by result', [
      'consumer',
      'result',
    ]),
    /** torouter_event_lag_seconds{consumer}: request finished → its event applied (settlement lag). */
    lag: histogram(
      registry,
      'torouter_event_lag_seconds',
      'Delay between a request finishing and its event being applied by a consumer',
      ['consumer'],
      LAG_BUCKETS_SECONDS,
    ),
    /** torouter_event_handle_duration_seconds{consumer} */
    handleDuration: histogram(
      registry,
      'torouter_event_handle_duration_seconds',
      'Time to apply one event, or one batch of events for batched consumers',
      ['consumer'],
      OVERHEAD_BUCKETS_SECONDS,
    ),
    /** torouter_queue_depth{queue,state}; state = pending (not yet delivered) | unacked (delivered, in flight) */
    queueDepth: gauge(registry, 'torouter_queue_depth', 'Messages waiting in a durable queue', [
      'queue',
      'state',
    ]),
  };
}

/** Request/reply between services over NATS, timed at the caller. */
export function rpcMetrics(registry: Registry) {
  return {
    /** torouter_rpc_request_duration_seconds{subject,outcome}; outcome = ok|error|unavailable */
    duration: histogram(
      registry,
      'torouter_rpc_request_duration_seconds',
      'NATS request/reply round trip, by subject and outcome',
      ['subject', 'outcome'],
      DURATION_BUCKETS_SECONDS,
    ),
  };
}

/**
 * Live connection state of NATS, Redis and Postgres, updated from the clients' own events (disconnect,
 * reconnect) rather than only when a readiness probe runs. Complements `torouter_dependency_up`.
 */
export function connectionMetrics(registry: Registry) {
  return {
    /** torouter_connection_up{dependency}: 1 connected, 0 not. */
    up: gauge(registry, 'torouter_connection_up', 'Whether a client connection is currently established', [
      'dependency',
    ]),
    /** torouter_connection_events_total{dependency,event}; event = disconnect|reconnect|error */
    events: counter(registry, 'torouter_connection_events_total', 'Connection state changes', [
      'dependency',
      'event',
    ]),
  };
}

/** Postgres pool usage, sampled at scrape time by the caller's collect hook. */
export function databasePoolMetrics(registry: Registry) {
  return {
    /** torouter_db_pool_connections{state}; state = total|idle|waiting */
    connections: gauge(registry, 'torouter_db_pool_connections', 'Postgres pool connections by state', [
      'state',
    ]),
  };
}
