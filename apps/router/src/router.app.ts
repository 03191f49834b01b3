import 'reflect-metadata';
import type { INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import type { RouterConfig } from '@torouter/config';
import { createServiceDataSource } from '@torouter/database';
import { EventBus, RpcClient } from '@torouter/messaging';
import {
  createLogger,
  createMetricsRegistry,
  PinoNestLogger,
  REQUEST_ID_HEADER,
  newRequestId,
  runWithRequestId,
} from '@torouter/observability';
import { createRedisConnection, registerHttpMetrics, type DependencyProbe } from '@torouter/service-runtime';
import type { Logger } from 'pino';
import { ChannelEntity } from './catalog/channel.entity';
import { ModelEntity } from './catalog/model.entity';
import { registerDataPlaneHttp } from './data-plane/overhead';
import { buildOpenApiDocument, serveApiDocs } from './docs/swagger';
import { AllErrorsFilter } from './http/all-errors.filter';
import { routerMigrations } from './migrations';
import { RouterModule } from './router.module';

export const routerSchema = 'router';
export const routerEntities = [ChannelEntity, ModelEntity];

export interface RunningRouter {
  app: INestApplication;
  url: string;
  close(): Promise<void>;
}

export function createRouterDataSource(config: RouterConfig) {
  return createServiceDataSource({
    url: config.DATABASE_URL,
    schema: routerSchema,
    entities: routerEntities,
    migrations: routerMigrations,
  });
}

function trustProxySetting(list: string): string[] | false {
  const entries = list
    .split(/[\s,]+/)
    .map((s) => s.trim())
    .filter(Boolean);
  return entries.length ? entries : false;
}

/**
 * Builds the router (connections, Nest app, Fastify hooks, Swagger) without listening, so the OpenAPI
 * writer can use the same app the server runs.
 */
export async function createRouterApp(
  config: RouterConfig,
  opts: { logger?: Logger } = {},
): Promise<{ app: NestFastifyApplication; close: () => Promise<void> }> {
  const logger = opts.logger ?? createLogger('router', config.LOG_LEVEL);
  const metrics = createMetricsRegistry('router');
  const dataSource = createRouterDataSource(config);
  const redis = createRedisConnection(config.REDIS_URL, config.TOROUTER_NAMESPACE, 'router', {
    autoPipelining: true,
  });
  const rpc = new RpcClient({
    natsUrl: config.NATS_URL,
    namespace: config.TOROUTER_NAMESPACE,
    timeoutMs: config.NATS_REQUEST_TIMEOUT_MS,
    name: `${config.TOROUTER_NAMESPACE}-router`,
  });
  const cleanup: Array<() => Promise<unknown>> = [];
  try {
    await dataSource.initialize();
    cleanup.push(() => dataSource.destroy());
    await redis.connect();
    cleanup.push(async () => redis.disconnect());
    await rpc.connect();
    cleanup.push(() => rpc.close());
    const events = await EventBus.connect(config.NATS_URL, config.TOROUTER_NAMESPACE, 'router-events');
    cleanup.push(() => events.close());

    const probes: DependencyProbe[] = [
      { name: 'postgres', check: async () => void (await dataSource.query('SELECT 1')) },
      { name: 'redis', check: async () => void (await redis.ping()) },
      { name: 'nats', check: () => events.ping() },
    ];

    const adapter = new FastifyAdapter({
      bodyLimit: config.MAX_BODY_BYTES,
      trustProxy: trustProxySetting(config.TRUSTED_PROXIES),
      // Always our own id, never the client's x-request-id: it is the usage event's message id and
      // settlement's idempotency key, so a reused client id must not make a second request free.
      genReqId: () => newRequestId(),
      // Upstream streams can run for minutes; the router imposes its own per-channel timeouts instead.
      requestTimeout: 0,
      return503OnClosing: true,
    });
    const app = await NestFactory.create<NestFastifyApplication>(
      RouterModule.forRoot({ config, dataSource, redis, rpc, events, metrics, probes }),
      adapter,
      { logger: new PinoNestLogger(logger), abortOnError: false },
    );
    const fastify = app.getHttpAdapter().getInstance();
    registerHttpMetrics(fastify, metrics);
    // Every response carries the request id, and every log line written while handling it too.
    fastify.addHook('onRequest', (request, reply, done) => {
      void reply.header(REQUEST_ID_HEADER, request.id);
      runWithRequestId(String(request.id), done);
    });
    // …and says how long the gateway itself took; multipart uploads are read raw for the relay.
    registerDataPlaneHttp(fastify);
    // Nest routes every error through this filter, including Fastify's own (malformed or oversized body,
    // mapped to HttpExceptions by Nest) and unknown routes.
    app.useGlobalFilters(new AllErrorsFilter(metrics));
    app.enableShutdownHooks([]);
    serveApiDocs(app, buildOpenApiDocument(app));
    await app.init();
    let closed = false;
    return {
      app,
      close: async () => {
        if (closed) return;
        closed = true;
        await app.close();
        for (const fn of cleanup.reverse()) await fn().catch(() => undefined);
        logger.flush();
      },
    };
  } catch (e) {
    for (const fn of cleanup.reverse()) await fn().catch(() => undefined);
    throw e;
  }
}

export async function startRouter(
  config: RouterConfig,
  opts: { logger?: Logger } = {},
): Promise<RunningRouter> {
  const { app, close } = await createRouterApp(config, opts);
  await app.listen(config.PORT, config.HOST);
  const address = app.getHttpServer().address() as { port: number };
  return { app, url: `http://127.0.0.1:${address.port}`, close };
}
