import { httpServerMetrics } from '@torouter/observability';
import type { FastifyInstance } from 'fastify';
import type { Registry } from 'prom-client';

/**
 * `torouter_http_requests_total` and `torouter_http_request_duration_seconds` by route pattern (never the
 * raw URL: ids and keys in paths would explode the label set), method and status.
 */
export function registerHttpMetrics(fastify: FastifyInstance, registry: Registry): void {
  const m = httpServerMetrics(registry);
  fastify.addHook('onResponse', (request, reply, done) => {
    const labels = {
      route: request.routeOptions.url ?? 'unmatched',
      method: request.method,
      status: String(reply.statusCode),
    };
    m.requests.inc(labels);
    m.duration.observe(labels, reply.elapsedTime / 1000);
    done();
  });
}
