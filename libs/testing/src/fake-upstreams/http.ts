// Small node:http helpers shared by every fake. They never throw on a vanished client: a fake that
// crashes when the router aborts a request would fail the very tests that exercise aborts.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';

export type HeaderMap = Record<string, string | number>;

/** Reads the whole request body as UTF-8. Rejects if the client goes away mid-body. */
export function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
    req.on('aborted', () => reject(new Error('request aborted')));
  });
}

/** First value of a header (node lower-cases names), or undefined. */
export function headerValue(
  headers: Record<string, string | string[] | undefined>,
  name: string,
): string | undefined {
  const value = headers[name.toLowerCase()];
  return Array.isArray(value) ? value[0] : value;
}

/** Narrows an unknown JSON value to an object so fields can be read without `any`. */
export function asRecord(value: unknown): Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : {};
}

export function parseJson(raw: string): unknown {
  if (raw.trim() === '') return undefined;
  try {
    return JSON.parse(raw) as unknown;
  } catch {
    return undefined;
  }
}

/** True while the response can still be written to. */
export function isWritable(res: ServerResponse): boolean {
  return !res.destroyed && !res.writableEnded;
}

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: HeaderMap = {}): void {
  sendRaw(res, status, JSON.stringify(body), { 'content-type': 'application/json', ...headers });
}

export function sendRaw(res: ServerResponse, status: number, body: string, headers: HeaderMap): void {
  if (!isWritable(res) || res.headersSent) return;
  res.writeHead(status, { ...headers, 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

/**
 * Waits `ms`, resolving false early if `signal` aborts (client gone or server closing) so no timer
 * outlives the test. setTimeout may fire a millisecond early due to rounding, so we re-arm until
 * the full delay has really elapsed: tests assert "took at least latencyMs".
 */
export function sleep(ms: number, signal: AbortSignal): Promise<boolean> {
  if (signal.aborted) return Promise.resolve(false);
  if (ms <= 0) return Promise.resolve(true);
  const startedAt = performance.now();
  return new Promise((resolve) => {
    let timer: NodeJS.Timeout;
    const onAbort = (): void => {
      clearTimeout(timer);
      resolve(false);
    };
    const tick = (): void => {
      const left = ms - (performance.now() - startedAt);
      if (left > 0) {
        timer = setTimeout(tick, Math.ceil(left));
        return;
      }
      signal.removeEventListener('abort', onAbort);
      resolve(true);
    };
    timer = setTimeout(tick, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

/** Per-prefix counters so ids are deterministic: `chatcmpl-fake-1`, `chatcmpl-fake-2`, `call_fake_1`… */
export class IdSource {
  private readonly counters = new Map<string, number>();

  next(prefix: string): string {
    const n = (this.counters.get(prefix) ?? 0) + 1;
    this.counters.set(prefix, n);
    return `${prefix}${n}`;
  }

  reset(): void {
    this.counters.clear();
  }
}
