// The provider-neutral part of a fake upstream: listening, recording, the behavior switches that
// act before a route runs (latency, hang, auth, 404, injected errors, garbage) and a clean close().
// Each provider file only supplies an adapter: its auth rule, its routes and its error format.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { IdSource, isWritable, parseJson, readBody, sendJson, sendRaw, sleep, type HeaderMap } from './http';
import { SseWriter } from './sse';
import type { FakeBehavior, FakeError, FakeProvider, FakeUpstream, RecordedRequest } from './types';

export interface HandlerContext {
  req: RecordedRequest;
  res: ServerResponse;
  /** Snapshot of the behavior when the request arrived. */
  behavior: FakeBehavior;
  /** Aborts when the client disconnects or the server closes; pass it to every wait. */
  signal: AbortSignal;
  ids: IdSource;
  /** Captures from the route pattern, e.g. Gemini's `{model}`. */
  params: Record<string, string>;
  /** Answers with an error in the provider's format (for request validation inside a route). */
  sendError(error: ProviderError): void;
}

/** An error to render; `code` lets a provider pin its own code field (OpenAI), else it derives one. */
export interface ProviderError extends FakeError {
  code?: string | null;
}

export interface Route {
  method: string;
  pattern: RegExp;
  /** Named after the pattern's capture groups, in order. */
  paramNames?: string[];
  /** Whether this request expects an SSE answer (decides the shape of `garbage`). */
  streams?: (ctx: HandlerContext) => boolean;
  handle: (ctx: HandlerContext) => Promise<void>;
}

export interface ProviderAdapter {
  provider: FakeProvider;
  /** Appended to the host root to form `baseUrl`. */
  basePath: string;
  routes: Route[];
  sseLineEnding?: '\n' | '\r\n';
  /** The provider's answer to a request lacking credentials, or undefined when it may pass. */
  authError(req: RecordedRequest): ProviderError | undefined;
  notFound(req: RecordedRequest): ProviderError;
  /** Renders an error in the provider's JSON format. */
  errorBody(error: ProviderError, ids: IdSource): unknown;
}

/** Starts a fake for `adapter` on 127.0.0.1 with a random port. */
export async function startServer(
  adapter: ProviderAdapter,
  initial: FakeBehavior = {},
): Promise<FakeUpstream> {
  const requests: RecordedRequest[] = [];
  const inflight = new Set<AbortController>();
  const ids = new IdSource();
  let behavior: FakeBehavior = { ...initial };
  let injectedFailures = 0;

  const server = createServer((req, res) => {
    const controller = new AbortController();
    inflight.add(controller);
    // 'close' fires on normal completion and on client disconnect alike; either way stop waiting.
    res.on('close', () => {
      controller.abort();
      inflight.delete(controller);
    });
    // A write to a socket the client already reset must not become an uncaught 'error'.
    res.on('error', () => undefined);
    req.on('error', () => undefined);
    void handle(req, res, controller.signal).catch(() => {
      if (isWritable(res) && !res.headersSent) {
        sendJson(res, 500, adapter.errorBody({ status: 500, message: 'fake upstream internal error' }, ids));
      } else {
        res.destroy();
      }
    });
  });
  server.on('clientError', (_err, socket) => socket.destroy());

  async function handle(req: IncomingMessage, res: ServerResponse, signal: AbortSignal): Promise<void> {
    const receivedAt = Date.now();
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    let rawBody: string;
    try {
      rawBody = await readBody(req);
    } catch {
      return; // client went away before sending its body: nothing to record or answer
    }
    const recorded: RecordedRequest = {
      method: req.method ?? 'GET',
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      headers: { ...req.headers },
      rawBody,
      json: parseJson(rawBody),
      receivedAt,
    };
    requests.push(recorded);
    const current = behavior;

    if (current.latencyMs !== undefined && !(await sleep(current.latencyMs, signal))) return;
    if (current.hang) return; // leave the socket open; close() or the client's timeout ends it

    const sendError = (error: ProviderError): void => {
      const headers: HeaderMap = {};
      if (error.retryAfterSeconds !== undefined) headers['retry-after'] = String(error.retryAfterSeconds);
      sendJson(res, error.status, adapter.errorBody(error, ids), headers);
    };

    const authError = adapter.authError(recorded);
    if (authError) return sendError(authError);

    const match = matchRoute(adapter.routes, recorded);
    if (!match) return sendError(adapter.notFound(recorded));
    const ctx: HandlerContext = {
      req: recorded,
      res,
      behavior: current,
      signal,
      ids,
      params: match.params,
      sendError,
    };

    if (current.error && (current.failTimes === undefined || injectedFailures < current.failTimes)) {
      injectedFailures += 1;
      return sendError(current.error);
    }
    if (current.garbage) return sendGarbage(ctx, match.route.streams?.(ctx) ?? false, adapter.sseLineEnding);
    await match.route.handle(ctx);
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const url = `http://127.0.0.1:${port}`;

  return {
    provider: adapter.provider,
    url,
    baseUrl: `${url}${adapter.basePath}`,
    requests,
    setBehavior(next: FakeBehavior): void {
      behavior = { ...next };
      injectedFailures = 0;
    },
    reset(): void {
      requests.length = 0; // keep the same array so references held by tests stay live
      behavior = {};
      injectedFailures = 0;
      ids.reset();
    },
    close(): Promise<void> {
      return new Promise((resolve) => {
        for (const controller of inflight) controller.abort();
        // close() alone would wait for keep-alive and hanging sockets; destroy them so jest can exit.
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}

function matchRoute(
  routes: Route[],
  req: RecordedRequest,
): { route: Route; params: Record<string, string> } | undefined {
  for (const route of routes) {
    if (route.method !== req.method) continue;
    const found = route.pattern.exec(req.path);
    if (!found) continue;
    const params: Record<string, string> = {};
    (route.paramNames ?? []).forEach((name, i) => {
      params[name] = decodeURIComponent(found[i + 1] ?? '');
    });
    return { route, params };
  }
  return undefined;
}

/** 200 with a body no client can parse: truncated JSON, or an SSE event whose data is not JSON. */
async function sendGarbage(
  ctx: HandlerContext,
  streaming: boolean,
  lineEnding?: '\n' | '\r\n',
): Promise<void> {
  if (!streaming) {
    sendRaw(ctx.res, 200, '{"id": "garbage", "choices": [{"oops', { 'content-type': 'application/json' });
    return;
  }
  const sse = new SseWriter(ctx.res, { signal: ctx.signal, lineEnding });
  if (!sse.start()) return;
  await sse.send('{this is not json');
  sse.end();
}
