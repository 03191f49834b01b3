import { loadConfig, routerEnvSchema } from '@torouter/config';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { renderOpenApiJson } from '../apps/router/src/docs/openapi-file';

describe('openapi.json', () => {
  it('matches what the code generates (run `npm run openapi` after changing an endpoint)', async () => {
    const config = loadConfig(routerEnvSchema, {
      TOROUTER_SECRET: 'openapi-generation-only-'.padEnd(40, 'x'),
      TOROUTER_ADMIN_TOKEN: 'openapi-generation-only'.padEnd(30, 'x'),
    });
    const generated = await renderOpenApiJson(config);
    const committed = readFileSync(join(__dirname, '..', 'openapi.json'), 'utf8');
    expect(committed).toBe(generated);
  });

  it('gives every operation a summary, an operationId and its error responses', () => {
    const doc = JSON.parse(readFileSync(join(__dirname, '..', 'openapi.json'), 'utf8')) as {
      paths: Record<
        string,
        Record<string, { summary?: string; operationId?: string; responses: Record<string, unknown> }>
      >;
    };
    const ops = Object.entries(doc.paths).flatMap(([path, methods]) =>
      Object.entries(methods).map(([m, op]) => ({ path, m, op })),
    );
    expect(ops.length).toBeGreaterThan(5);
    const ids = ops.map(({ op }) => op.operationId);
    expect(ids.filter((id, i) => ids.indexOf(id) !== i)).toEqual([]); // unique, for generated clients
    for (const { path, m, op } of ops) {
      expect(`${m} ${path}: ${op.summary ?? ''}`).toMatch(/: \S/);
      expect(op.operationId).toBeTruthy();
      if (
        path.startsWith('/v1') ||
        path.startsWith('/api/v1/chat') ||
        path.startsWith('/api/v1/messages') ||
        path.startsWith('/api/v1beta')
      ) {
        expect(Object.keys(op.responses)).toEqual(expect.arrayContaining(['401', '404', '429']));
      }
    }
  });
});
