import { ConfigError, loadConfig } from '@torouter/config';
import { createLogger } from '@torouter/observability';
import type { z } from 'zod';
import {
  migrateInternalService,
  startInternalService,
  type InternalServiceConfig,
  type InternalServiceDefinition,
} from './internal-service';

/**
 * The body of every internal service's main.ts: `node main.js` serves, `node main.js migrate` brings the
 * schema up to date and exits. A bad environment prints the variable at fault and exits 1; SIGINT/SIGTERM
 * drain NATS subscriptions and close connections before exiting.
 */
export function runInternalServiceMain<C extends InternalServiceConfig>(
  def: InternalServiceDefinition<C>,
  schema: z.ZodType<C, z.ZodTypeDef, unknown>,
): void {
  let config: C;
  try {
    config = loadConfig(schema, process.env);
  } catch (e) {
    if (e instanceof ConfigError) {
      process.stderr.write(`${def.name}: ${e.message}\n`);
      process.exit(1);
    }
    throw e;
  }
  const logger = createLogger(def.name, config.LOG_LEVEL);
  const command = process.argv[2] ?? 'serve';

  if (command === 'migrate') {
    migrateInternalService(def, config).then(
      (ran) => {
        logger.info(
          { migrations: ran },
          ran.length ? `${def.name}: applied ${ran.length} migration(s)` : `${def.name}: schema up to date`,
        );
        logger.flush();
        setTimeout(() => process.exit(0), 50);
      },
      (e: unknown) => {
        logger.fatal({ err: e }, `${def.name}: migration failed`);
        logger.flush();
        setTimeout(() => process.exit(1), 50);
      },
    );
    return;
  }
  if (command !== 'serve') {
    process.stderr.write(`usage: node main.js [serve|migrate]\n`);
    process.exit(2);
  }

  startInternalService(def, config, { logger }).then(
    (running) => {
      const stop = (signal: string) => {
        logger.info(`${def.name}: ${signal} received, shutting down`);
        running.close().then(
          () => process.exit(0),
          () => process.exit(1),
        );
      };
      process.once('SIGINT', () => stop('SIGINT'));
      process.once('SIGTERM', () => stop('SIGTERM'));
    },
    (e: unknown) => {
      logger.fatal({ err: e }, `${def.name}: failed to start: ${e instanceof Error ? e.message : String(e)}`);
      logger.flush();
      setTimeout(() => process.exit(1), 50);
    },
  );
}
