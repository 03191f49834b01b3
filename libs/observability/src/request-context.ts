import { AsyncLocalStorage } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';

/** The request id follows a request through HTTP handlers, NATS hops and log lines. */
export const REQUEST_ID_HEADER = 'x-request-id';

interface RequestContext {
  requestId: string;
}

const storage = new AsyncLocalStorage<RequestContext>();

export function runWithRequestId<T>(requestId: string, fn: () => T): T {
  return storage.run({ requestId }, fn);
}

export function currentRequestId(): string | undefined {
  return storage.getStore()?.requestId;
}

const acceptable = /^[A-Za-z0-9._:-]{8,128}$/;

/**
 * Keeps a caller-supplied id when it is a sane token (so a client's own tracing id survives), otherwise
 * makes a new one. Never trust it for anything but correlation.
 */
export function requestIdFrom(incoming: unknown): string {
  return typeof incoming === 'string' && acceptable.test(incoming) ? incoming : newRequestId();
}

export function newRequestId(): string {
  return `req_${randomUUID().replace(/-/g, '')}`;
}
