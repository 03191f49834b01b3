import 'reflect-metadata';
import {
  Global,
  Module,
  type DynamicModule,
  type INestApplication,
  type Provider,
  type Type,
} from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import type { InternalService, Subject } from '@torouter/contracts';
import type { SharedConfig } from '@torouter/config';
import { createServiceDataSource, ensureDatabase, migrateServiceSchema } from '@torouter/database';
import { EventBus, NamespacedNatsServer } from '@torouter/messaging';
import { createLogger, createMetricsRegistry, PinoNestLogger } from '@torouter/observability';
import { Redis } from 'ioredis';
import type { NatsConnection } from 'nats';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { DataSource, type MixedList } from 'typeorm';
import type { DependencyProbe } from './dependency-probes';
import { createHealthNatsController } from './health.nats.controller';
import { registerHttpMetrics } from './http-metrics';
import { HealthHttpController, MetricsHttpController } from './health.http.controller';
import { APP_CONFIG, DEPENDENCY_PROBES, METRICS_REGISTRY, SERVICE_NAME } from './tokens';

export interface InternalServiceConfig extends SharedConfig {
  HTTP_PORT?: number;
}

/** What a service's feature module can inject, created once by the runtime. */
export interface ServiceRuntime<C extends InternalServiceConfig> {
  config: C;
  dataSource: DataSource;
  redis: Redis | null;
  events: EventBus;
  logger: Logger;
  metrics: Registry;
}

/** Everything the runtime needs to know to boot, probe and migrate one internal service. */
export interface InternalServiceDefinition<C extends InternalServiceConfig> {
  name: InternalService;
  /** Postgres schema the service owns. */
  schema: string;
  defaultHttpPort: number;
  healthSubject: Subject;
  entities: MixedList<Function>;
  migrations: MixedList<Function>;
  usesRedis: boolean;
  /** The service's own features (NATS controllers, services, repositories). */
  featureModule(runtime: ServiceRuntime<C>): DynamicModule | Type<unknown>;
}

export interface RunningService {
  app: INestApplication;
  /** Base URL of the health/metrics port, e.g. http://127.0.0.1:8082 */
  httpUrl: string;
  close(): Promise<void>;
}

export function createRedisConnection(
  url: string,
  namespace: string,
  name: string,
  opts: { autoPipelining?: boolean } = {},
): Redis {
  // Fail fast instead of queueing commands forever while Redis is down: callers fail closed.
  return new Redis(url, {
    // Commands issued in the same event-loop tick go out in one write (and come back in one read):
    // under load, the request path's scripts of many requests share their syscalls.
    enableAutoPipelining: opts.autoPipelining ?? false,
    keyPrefix: `${namespace}:`,
    connectionName: name,
    maxRetriesPerRequest: 1,
    enableOfflineQueue: false,
    lazyConnect: true,
    retryStrategy: (times) => Math.min(times * 200, 2000),
  });
}

export async function migrateInternalService<C extends InternalServiceConfig>(
  def: InternalServiceDefinition<C>,
  config: C,
): Promise<string[]> {
  await ensureDatabase(config.DATABASE_URL);
  const dataSource = createServiceDataSource({
    url: config.DATABASE_URL,
    schema: def.schema,
    entities: def.entities,
    migrations: def.migrations,
    poolSize: 1,
  });
  return migrateServiceSchema(dataSource);
}

export async function startInternalService<C extends InternalServiceConfig>(
  def: InternalServiceDefinition<C>,
  config: C,
  opts: { logger?: Logger; host?: string } = {},
): Promise<RunningService> {
  const logger = opts.logger ?? createLogger(def.name, config.LOG_LEVEL);
  const metrics = createMetricsRegistry(def.name);
  const dataSource = createServiceDataSource({
    url: config.DATABASE_URL,
    schema: def.schema,
    entities: def.entities,
    migrations: def.migrations,
  });
  await dataSource.initialize();
  const redis = def.usesRedis
    ? createRedisConnection(config.REDIS_URL, config.TOROUTER_NAMESPACE, def.name)
    : null;
  const cleanup: Array<() => Promise<unknown>> = [() => dataSource.destroy()];
  try {
    if (redis) {
      await redis.connect();
      cleanup.push(async () => redis.disconnect());
    }
    const events = await EventBus.connect(config.NATS_URL, config.TOROUTER_NAMESPACE, `${def.name}-events`);
    cleanup.push(() => events.close());

    const server = new NamespacedNatsServer(config.TOROUTER_NAMESPACE, {
      servers: config.NATS_URL.split(','),
      queue: def.name,
      name: `${config.TOROUTER_NAMESPACE}-${def.name}`,
      gracefulShutdown: true,
      gracePeriod: 2000,
    });

    const probes: DependencyProbe[] = [
      { name: 'postgres', check: async () => void (await dataSource.query('SELECT 1')) },
      {
        name: 'nats',
        check: async () => {
          const nc = server.unwrap<NatsConnection>();
          if (!nc || nc.isClosed()) throw new Error('NATS server connection is closed');
          await nc.flush();
        },
      },
    ];
    if (redis) probes.push({ name: 'redis', check: async () => void (await redis.ping()) });

    const runtime: ServiceRuntime<C> = { config, dataSource, redis, events, logger, metrics };
    const runtimeProviders: Provider[] = [
      { provide: APP_CONFIG, useValue: config },
      { provide: SERVICE_NAME, useValue: def.name },
      { provide: METRICS_REGISTRY, useValue: metrics },
      { provide: DEPENDENCY_PROBES, useValue: probes },
      { provide: DataSource, useValue: dataSource },
      { provide: EventBus, useValue: events },
      ...(redis ? [{ provide: Redis, useValue: redis }] : []),
    ];

    @Global()
    @Module({})
    class RuntimeModule {}

    @Module({})
    class ServiceRootModule {}

    const rootModule: DynamicModule = {
      module: ServiceRootModule,
      imports: [
        { module: RuntimeModule, providers: runtimeProviders, exports: runtimeProviders.map(tokenOf) },
        def.featureModule(runtime),
      ],
      controllers: [
        HealthHttpController,
        MetricsHttpController,
        createHealthNatsController(def.healthSubject),
      ],
    };

    const app = await NestFactory.create<NestFastifyApplication>(rootModule, new FastifyAdapter(), {
      logger: new PinoNestLogger(logger),
      abortOnError: false,
    });
    registerHttpMetrics(app.getHttpAdapter().getInstance(), metrics);
    app.connectMicroservice({ strategy: server }, { inheritAppConfig: true });
    await app.startAllMicroservices();
    const port = config.HTTP_PORT ?? def.defaultHttpPort;
    await app.listen(port, opts.host ?? '0.0.0.0');
    const address = app.getHttpServer().address() as { port: number };
    logger.info(
      { httpPort: address.port, namespace: config.TOROUTER_NAMESPACE },
      `${def.name} service ready`,
    );

    let closed = false;
    return {
      app,
      httpUrl: `http://127.0.0.1:${address.port}`,
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

function tokenOf(p: Provider): string | symbol | Function {
  return typeof p === 'function' ? p : (p as { provide: string | symbol | Function }).provide;
}
