import {
  authEnvSchema,
  billingEnvSchema,
  keysEnvSchema,
  loadConfig,
  routerEnvSchema,
  usageEnvSchema,
  type RouterConfig,
} from '@torouter/config';
import { dropDatabase, ensureDatabase, migrateServiceSchema } from '@torouter/database';
import { createLogger } from '@torouter/observability';
import {
  migrateInternalService,
  startInternalService,
  type InternalServiceConfig,
  type InternalServiceDefinition,
  type RunningService,
} from '@torouter/service-runtime';
import { RpcClient } from '@torouter/messaging';
import { Redis } from 'ioredis';
import { connect as connectNats } from 'nats';
import { randomBytes } from 'node:crypto';
import type { z } from 'zod';
import { authService } from '../../apps/auth/src/auth.service-definition';
import { billingService } from '../../apps/billing/src/billing.service-definition';
import { keysService } from '../../apps/keys/src/keys.service-definition';
import { createRouterDataSource, startRouter, type RunningRouter } from '../../apps/router/src/router.app';
import { seedDemo, type DemoSeedResult } from '../../apps/router/src/seed/demo-seed';
import { usageService } from '../../apps/usage/src/usage.service-definition';

export interface TestStack {
  /** Router base URL, e.g. http://127.0.0.1:40123 */
  url: string;
  namespace: string;
  databaseUrl: string;
  adminToken: string;
  env: Record<string, string>;
  services: Record<'auth' | 'keys' | 'billing' | 'usage', RunningService>;
  router: RunningRouter;
  /** A connected NATS client in this stack's namespace, for tests that talk to services directly. */
  rpc: RpcClient;
  demo?: DemoSeedResult;
  /** Stops one internal service (to test failure reporting). */
  stopService(name: 'auth' | 'keys' | 'billing' | 'usage'): Promise<void>;
  close(): Promise<void>;
}

/** A short unique name for this suite's database, NATS namespace and Redis prefix. */
export function uniqueTestName(prefix = 't'): string {
  return `${prefix}_${Date.now().toString(36)}_${randomBytes(3).toString('hex')}`;
}

/**
 * Starts the whole stack inside the test process against the real local Postgres, Redis and NATS: its
 * own database (created, migrated, then dropped), its own NATS namespace and Redis key prefix, every HTTP
 * port chosen by the OS. The same service definitions and router factory the real processes run.
 */
export async function startTestStack(
  opts: { seedDemo?: boolean; env?: Record<string, string> } = {},
): Promise<TestStack> {
  const name = uniqueTestName('torouter_test');
  const env: Record<string, string> = {
    DATABASE_URL: `postgres://postgres@127.0.0.1:5432/${name}`,
    REDIS_URL: 'redis://127.0.0.1:6379',
    NATS_URL: 'nats://127.0.0.1:4222',
    TOROUTER_NAMESPACE: name,
    TOROUTER_SECRET: randomBytes(32).toString('hex'),
    TOROUTER_ADMIN_TOKEN: randomBytes(24).toString('hex'),
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'warn',
    NODE_ENV: 'test',
    ALLOW_PRIVATE_UPSTREAMS: 'true',
    PORT: '0',
    HTTP_PORT: '0',
    HOST: '127.0.0.1',
    // Fresh accounts can call the data plane (pay-as-you-go needs a balance); billing specs set their own.
    BILLING_SIGNUP_CREDIT_USD: '100',
    ...opts.env,
  };
  await ensureDatabase(env.DATABASE_URL);

  const defs: Array<[InternalServiceDefinition<InternalServiceConfig>, z.ZodTypeAny]> = [
    [authService, authEnvSchema],
    [keysService, keysEnvSchema],
    [billingService, billingEnvSchema],
    [usageService, usageEnvSchema],
  ];
  const routerConfig: RouterConfig = loadConfig(routerEnvSchema, env);
  await migrateServiceSchema(createRouterDataSource(routerConfig));
  const started: RunningService[] = [];
  const services = {} as TestStack['services'];
  let router: RunningRouter | undefined;
  let rpc: RpcClient | undefined;
  const teardown = async () => {
    await rpc?.close();
    await router?.close();
    await Promise.all(started.map((s) => s.close()));
    await dropDatabase(env.DATABASE_URL);
    await removeTestNamespace(name, env);
  };
  try {
    for (const [def, schema] of defs) {
      const config = loadConfig(schema, env) as InternalServiceConfig;
      await migrateInternalService(def, config);
      const running = await startInternalService(def, config, {
        host: '127.0.0.1',
        logger: createLogger(def.name, env.LOG_LEVEL),
      });
      started.push(running);
      services[def.name] = running;
    }
    // Same order as `npm start`: the seed needs auth and keys up, and the router loads the catalog it wrote.
    const demo = opts.seedDemo === false ? undefined : await seedDemo(routerConfig, { createKey: true });
    router = await startRouter(routerConfig);
    const r = router;
    rpc = new RpcClient({ natsUrl: env.NATS_URL, namespace: name, timeoutMs: 10_000, name: 'test' });
    await rpc.connect();
    const connectedRpc = rpc;
    return {
      url: r.url,
      namespace: name,
      databaseUrl: env.DATABASE_URL,
      adminToken: env.TOROUTER_ADMIN_TOKEN,
      env,
      services,
      router: r,
      rpc: connectedRpc,
      demo,
      stopService: async (svc) => {
        await services[svc].close();
      },
      close: teardown,
    };
  } catch (e) {
    await teardown().catch(() => undefined);
    throw e;
  }
}

/** Removes what a suite's namespace left on the shared servers: its Redis keys and JetStream streams. */
export async function removeTestNamespace(
  namespace: string,
  urls: { REDIS_URL?: string; NATS_URL?: string } = {},
): Promise<void> {
  await deleteRedisKeys(urls.REDIS_URL ?? 'redis://127.0.0.1:6379', namespace);
  await deleteStreams(urls.NATS_URL ?? 'nats://127.0.0.1:4222', namespace);
}

/** The suite's JetStream streams (`<namespace>_*`): file-backed, they would outlive the run on disk. */
async function deleteStreams(url: string, namespace: string): Promise<void> {
  const nc = await connectNats({ servers: url });
  try {
    const jsm = await nc.jetstreamManager();
    for await (const stream of jsm.streams.names()) {
      if (stream.startsWith(`${namespace}_`)) await jsm.streams.delete(stream);
    }
  } finally {
    await nc.close();
  }
}

async function deleteRedisKeys(url: string, namespace: string): Promise<void> {
  const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1 });
  await redis.connect();
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${namespace}:*`, 'COUNT', 500);
      if (keys.length) await redis.del(...keys);
      cursor = next;
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
}
