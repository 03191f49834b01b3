import { collectDefaultMetrics, Gauge, Registry } from 'prom-client';

/**
 * One registry per app instance (not prom-client's global one) so several apps can live in one process in
 * tests without clashing, and each /metrics shows only its own app.
 */
export function createMetricsRegistry(service: string): Registry {
  const registry = new Registry();
  registry.setDefaultLabels({ service });
  collectDefaultMetrics({ register: registry, prefix: 'torouter_' });
  return registry;
}

/** `torouter_dependency_up{dependency="postgres"}` 1/0, updated by the readiness probe. */
export function dependencyGauge(registry: Registry): Gauge<'dependency'> {
  return new Gauge({
    name: 'torouter_dependency_up',
    help: 'Whether a dependency (postgres, redis, nats) answered the last readiness check (1) or not (0)',
    labelNames: ['dependency'],
    registers: [registry],
  });
}
