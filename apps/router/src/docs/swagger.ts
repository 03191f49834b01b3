import type { INestApplication } from '@nestjs/common';
import { DocumentBuilder, SwaggerModule, type OpenAPIObject } from '@nestjs/swagger';

/** The one OpenAPI document for the whole public API (data plane and control plane). */
export function buildOpenApiDocument(app: INestApplication): OpenAPIObject {
  const config = new DocumentBuilder()
    .setTitle('ToRouter API')
    .setDescription(
      [
        'One API key and one base URL for every LLM provider.',
        '',
        '- **Data plane** — the OpenAI (`/v1`), Anthropic (`/v1/messages`) and Gemini (`/v1beta`) APIs, also under `/api/v1` and `/api/v1beta`. Authenticate with `Authorization: Bearer sk-…`, `x-api-key` or `x-goog-api-key` (`?key=` on Gemini routes only). Errors come in the envelope of the API you called.',
        '- **Control plane** — accounts, keys, billing, usage and admin under `/api/v1`. Errors: `{"error":{"type","code","message"}}`.',
        '',
        'Every response carries `x-request-id`; quote it when reporting a problem.',
      ].join('\n'),
    )
    .setVersion('1')
    .addBearerAuth({
      type: 'http',
      scheme: 'bearer',
      description:
        'An API key (sk-…) on the data plane; a session token or the admin token on the control plane',
    })
    .addApiKey({ type: 'apiKey', in: 'header', name: 'x-api-key' }, 'x-api-key')
    .addApiKey({ type: 'apiKey', in: 'header', name: 'x-goog-api-key' }, 'x-goog-api-key')
    .build();
  const doc = SwaggerModule.createDocument(app, config, {
    operationIdFactory: (_controllerKey, methodKey) => methodKey,
  });
  return withoutApiAliases(doc);
}

/**
 * Every data-plane path is also served under /api (`/api/v1/chat/completions` = `/v1/chat/completions`),
 * by the same handler. Listing both would give generated clients two methods with one operationId, so the
 * document keeps the canonical path; the description says the aliases exist.
 */
function withoutApiAliases(doc: OpenAPIObject): OpenAPIObject {
  const paths = { ...doc.paths };
  for (const path of Object.keys(paths)) {
    if (path.startsWith('/api/v1') && paths[path.slice(4)]) delete paths[path];
  }
  return { ...doc, paths };
}

export function serveApiDocs(app: INestApplication, document: OpenAPIObject): void {
  SwaggerModule.setup('docs', app, document, { jsonDocumentUrl: 'docs-json', yamlDocumentUrl: 'docs-yaml' });
}
