import { ConfigError, loadConfig, routerEnvSchema, type RouterConfig } from '@torouter/config';
import { migrateServiceSchema, ensureDatabase } from '@torouter/database';
import { createLogger } from '@torouter/observability';
import { createRouterDataSource, startRouter } from './router.app';
import { seedDemo } from './seed/demo-seed';

/**
 * `node main.js`          serve the public API
 * `node main.js migrate`  bring the router's schema up to date and exit
 * `node main.js seed [--with-key]`  first-run demo data (needs the stack running); prints JSON
 */
function main(): void {
  let config: RouterConfig;
  try {
    config = loadConfig(routerEnvSchema, process.env);
  } catch (e) {
    if (e instanceof ConfigError) {
      process.stderr.write(`router: ${e.message}\n`);
      process.exit(1);
    }
    throw e;
  }
  const logger = createLogger('router', config.LOG_LEVEL);
  const command = process.argv[2] ?? 'serve';
  const exit = (code: number) => {
    logger.flush();
    setTimeout(() => process.exit(code), 50);
  };

  if (command === 'migrate') {
    ensureDatabase(config.DATABASE_URL)
      .then(() => migrateServiceSchema(createRouterDataSource(config)))
      .then(
        (ran) => {
          logger.info(
            { migrations: ran },
            ran.length ? `router: applied ${ran.length} migration(s)` : 'router: schema up to date',
          );
          exit(0);
        },
        (e: unknown) => {
          logger.fatal({ err: e }, 'router: migration failed');
          exit(1);
        },
      );
    return;
  }
  if (command === 'seed') {
    seedDemo(config, { createKey: process.argv.includes('--with-key') }).then(
      (result) => {
        process.stdout.write(`${JSON.stringify(result)}\n`);
        exit(0);
      },
      (e: unknown) => {
        logger.fatal({ err: e }, `router: seeding failed: ${e instanceof Error ? e.message : String(e)}`);
        exit(1);
      },
    );
    return;
  }
  if (command !== 'serve') {
    process.stderr.write('usage: node main.js [serve|migrate|seed [--with-key]]\n');
    process.exit(2);
  }
  startRouter(config, { logger }).then(
    (running) => {
      logger.info({ url: running.url }, 'router ready');
      const stop = (signal: string) => {
        logger.info(`router: ${signal} received, shutting down`);
        running.close().then(
          () => process.exit(0),
          () => process.exit(1),
        );
      };
      process.once('SIGINT', () => stop('SIGINT'));
      process.once('SIGTERM', () => stop('SIGTERM'));
    },
    (e: unknown) => {
      logger.fatal({ err: e }, `router: failed to start: ${e instanceof Error ? e.message : String(e)}`);
      exit(1);
    },
  );
}

main();
