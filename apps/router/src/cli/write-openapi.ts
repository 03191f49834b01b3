import { loadConfig, routerEnvSchema } from '@torouter/config';
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { renderOpenApiJson } from '../docs/openapi-file';

/**
 * `npm run openapi`: writes the public API's OpenAPI document to openapi.json at the repo root. The
 * document is built from the controllers' decorators alone, so no database or broker is needed.
 */
async function main(): Promise<void> {
  const config = loadConfig(routerEnvSchema, {
    TOROUTER_SECRET: 'openapi-generation-only-'.padEnd(40, 'x'),
    TOROUTER_ADMIN_TOKEN: 'openapi-generation-only'.padEnd(30, 'x'),
    LOG_LEVEL: 'warn',
  });
  const target = resolve(process.argv[2] ?? 'openapi.json');
  writeFileSync(target, await renderOpenApiJson(config));
  process.stdout.write(`wrote ${target}\n`);
}

main().catch((e: unknown) => {
  process.stderr.write(`openapi: ${e instanceof Error ? e.stack : String(e)}\n`);
  process.exit(1);
});
