import type { FastifyInstance } from 'fastify';

/** Milliseconds the gateway itself spent on a response: total time minus time waiting on upstreams. */
export const OVERHEAD_HEADER = 'x-torouter-overhead-ms';

/**
 * The data plane's additions to the Fastify instance, registered before the app initialises:
 * - every response gets `x-torouter-overhead-ms` (the relay sets its own value, excluding upstream time,
 *   before sending; everything else the gateway answers alone, so all its time is overhead);
 * - multipart/form-data bodies (image edits, audio transcriptions) are read as raw bytes, within
 *   MAX_BODY_BYTES, and forwarded part for part.
 */
export function registerDataPlaneHttp(fastify: FastifyInstance): void {
  fastify.addHook('onSend', (_request, reply, payload, done) => {
    if (!reply.hasHeader(OVERHEAD_HEADER))
      void reply.header(OVERHEAD_HEADER, String(Math.round(reply.elapsedTime)));
    done(null, payload);
  });
  fastify.addContentTypeParser('multipart/form-data', { parseAs: 'buffer' }, (_request, body, done) => {
    done(null, body);
  });
}
