import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Readable } from 'node:stream';

export const stripeWebhookPath = '/api/v1/billing/webhooks/stripe';
/** Stripe events are a few KB; anything far larger is not one. */
const maxWebhookBytes = 1024 * 1024;

const rawBodies = new WeakMap<FastifyRequest, Buffer>();

export function rawBodyOf(request: FastifyRequest): Buffer | undefined {
  return rawBodies.get(request);
}

/**
 * Keeps the exact bytes of the Stripe webhook (signatures are over the raw body, not the parsed JSON).
 * Only that one route is touched: every other request streams to the normal parsers as before.
 */
export function captureWebhookRawBody(fastify: FastifyInstance): void {
  fastify.addHook('preParsing', async (request, _reply, payload) => {
    if (request.url.split('?')[0] !== stripeWebhookPath) return payload;
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of payload) {
      const buf = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as string);
      size += buf.length;
      if (size > maxWebhookBytes)
        throw Object.assign(new Error('webhook body too large'), { statusCode: 413 });
      chunks.push(buf);
    }
    const raw = Buffer.concat(chunks);
    rawBodies.set(request, raw);
    const replay = Readable.from([raw]) as Readable & { receivedEncodedLength?: number };
    replay.receivedEncodedLength = raw.length;
    return replay;
  });
}
