import { Logger } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { toGatewayError } from '../data-plane/gateway-errors';
import { isDataPlaneUrl, surfaceForUrl } from '../data-plane/surfaces';
import { wireAdapters } from '../relay';

const logger = new Logger('Errors');

/**
 * The one place an error becomes an HTTP response. Data-plane routes answer in the caller's SDK envelope
 * (OpenAI, Anthropic or Gemini, per DECISIONS.md); the control plane answers
 * `{"error":{"type","code","message"}}`. Headers an error carries (Retry-After, x-ratelimit-*) go with it. Used by the Nest exception filter and by Fastify's error handler
 * (errors raised before any handler, like a malformed or oversized body).
 */
export function sendError(request: FastifyRequest, reply: FastifyReply, e: unknown): void {
  const requestId = String(request.id);
  const err = toGatewayError(e, requestId);
  if (err.internal) logger.error({ err: e, requestId, url: request.url }, 'unhandled error on request path');
  if (reply.sent || reply.raw.headersSent) {
    // Too late for a status code (a stream already started): the stream writer reports it in-band.
    reply.raw.destroy();
    return;
  }
  const headers = responseHeadersOf(e);
  if (headers) void reply.headers(headers);
  const body = isDataPlaneUrl(request.url)
    ? wireAdapters[surfaceForUrl(request.url)].encodeError(err)
    : {
        error: {
          type: err.code,
          code: err.code,
          message: err.message,
          ...(err.param ? { param: err.param } : {}),
        },
      };
  void reply.status(err.status).type('application/json').send(body);
}

/** The headers an error wants on its response (`responseHeaders`: Retry-After, x-ratelimit-*), if any. */
function responseHeadersOf(e: unknown): Record<string, string> | undefined {
  if (!(e instanceof Error)) return undefined;
  const h = (e as { responseHeaders?: unknown }).responseHeaders;
  return h && typeof h === 'object' ? (h as Record<string, string>) : undefined;
}
