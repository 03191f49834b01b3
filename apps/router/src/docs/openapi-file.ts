import { NestFactory } from '@nestjs/core';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import type { RouterConfig } from '@torouter/config';
import { EventBus, RpcClient } from '@torouter/messaging';
import { createMetricsRegistry } from '@torouter/observability';
import { createRedisConnection } from '@torouter/service-runtime';
import { createRouterDataSource } from '../router.app';
import { RouterModule } from '../router.module';
import { buildOpenApiDocument } from './swagger';

/**
 * The OpenAPI document as committed in openapi.json: built from the same module the server runs, with
 * connections that are created but never opened (the document depends only on decorators), and
 * serialised with sorted paths so diffs are stable.
 */
export async function renderOpenApiJson(config: RouterConfig): Promise<string> {
  const app = await NestFactory.create(
    RouterModule.forRoot({
      config,
      dataSource: createRouterDataSource(config),
      redis: createRedisConnection(config.REDIS_URL, config.TOROUTER_NAMESPACE, 'openapi'),
      rpc: new RpcClient({
        natsUrl: config.NATS_URL,
        namespace: config.TOROUTER_NAMESPACE,
        timeoutMs: 1000,
        name: 'openapi',
      }),
      events: Object.create(EventBus.prototype) as EventBus,
      metrics: createMetricsRegistry('openapi'),
      probes: [],
    }),
    new FastifyAdapter(),
    { logger: false, abortOnError: false },
  );
  try {
    const doc = buildOpenApiDocument(app);
    const paths = Object.fromEntries(Object.entries(doc.paths).sort(([a], [b]) => a.localeCompare(b)));
    return `${JSON.stringify({ ...doc, paths }, null, 2)}\n`;
  } finally {
    await app.close();
  }
}
