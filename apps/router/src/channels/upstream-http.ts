// The one way the router reaches an upstream: undici keep-alive pools (one Agent per channel, which keeps
// a pool per origin), the channel's connect / first-byte / total timeouts, the SSRF-guarded DNS lookup,
// and an abort that follows the client: when the caller hangs up, the upstream request is cancelled.

import { Inject, Injectable, type OnApplicationShutdown } from '@nestjs/common';
import type { RouterConfig } from '@torouter/config';
import { APP_CONFIG } from '@torouter/service-runtime';
import type { Readable } from 'node:stream';
import { Agent, type Dispatcher } from 'undici';
import { isIP } from 'node:net';
import { forbiddenAddressReason, guardedLookup } from './ssrf-guard';

export interface UpstreamTimeouts {
  /** TCP + TLS handshake. */
  connectMs: number;
  /** Until the response headers, and the longest silence allowed between two body chunks. */
  firstByteMs: number;
  /** The whole exchange, body included. */
  totalMs: number;
}

export const defaultUpstreamTimeouts: UpstreamTimeouts = {
  connectMs: 10_000,
  firstByteMs: 120_000,
  totalMs: 600_000,
};

export interface UpstreamHttpRequest {
  /** Pool key: one Agent per channel version. */
  poolKey: string;
  url: string;
  method: 'GET' | 'POST' | 'DELETE';
  headers: Record<string, string>;
  body?: string | Buffer;
  timeouts: UpstreamTimeouts;
  /** The client's signal: aborting it cancels the upstream request. */
  signal?: AbortSignal;
}

/** Why an exchange failed without an HTTP answer. */
export type UpstreamFailureKind = 'connect' | 'timeout' | 'network' | 'cancelled' | 'refused';

export class UpstreamFailure extends Error {
  constructor(
    readonly kind: UpstreamFailureKind,
    message: string,
  ) {
    super(message);
    this.name = 'UpstreamFailure';
  }
}

/** An open upstream response. Read `body` (or `text()`), then the exchange is over; `close()` is idempotent. */
export interface UpstreamHttpResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  /** Chunks as they arrive; iterating may throw an `UpstreamFailure` (timeout, cut, client gone). */
  chunks(): AsyncGenerator<Buffer>;
  text(): Promise<string>;
  close(): void;
}

const CONNECT_ERRORS = new Set([
  'UND_ERR_CONNECT_TIMEOUT',
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ECONNRESET',
  'UND_ERR_SOCKET',
  'EPROTO',
  'CERT_HAS_EXPIRED',
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
]);

@Injectable()
export class UpstreamHttp implements OnApplicationShutdown {
  private readonly agents = new Map<string, Agent>();
  private allowPrivate = false;

  constructor(@Inject(APP_CONFIG) config: RouterConfig) {
    this.allowPrivate = config.ALLOW_PRIVATE_UPSTREAMS;
  }

  async onApplicationShutdown(): Promise<void> {
    const agents = [...this.agents.values()];
    this.agents.clear();
    await Promise.all(agents.map((a) => a.destroy().catch(() => undefined)));
  }

  /** Drops the pools of channel versions no longer in use (after an admin change). */
  retain(poolKeys: ReadonlySet<string>): void {
    for (const [key, agent] of this.agents) {
      if (poolKeys.has(key)) continue;
      this.agents.delete(key);
      void agent.close().catch(() => undefined);
    }
  }

  private agent(key: string, connectMs: number): Agent {
    let agent = this.agents.get(key);
    if (!agent) {
      agent = new Agent({
        keepAliveTimeout: 30_000,
        keepAliveMaxTimeout: 600_000,
        connect: {
          timeout: connectMs,
          ...(this.allowPrivate ? {} : { lookup: guardedLookup }),
        },
      });
      this.agents.set(key, agent);
    }
    return agent;
  }

  async send(req: UpstreamHttpRequest): Promise<UpstreamHttpResponse> {
    const url = new URL(req.url);
    if (!this.allowPrivate) {
      // An IP-literal host never reaches the guarded DNS lookup: check it here (URLs a provider hands
      // out in its answers are covered too, not only channel base URLs).
      const host = url.hostname.replace(/^\[|\]$/g, '');
      const reason = isIP(host) ? forbiddenAddressReason(host) : undefined;
      if (reason) throw new UpstreamFailure('refused', `refused to connect: the upstream host is ${reason}`);
    }
    const controller = new AbortController();
    let abortKind: UpstreamFailureKind | undefined;
    const abort = (kind: UpstreamFailureKind) => {
      if (abortKind) return;
      abortKind = kind;
      controller.abort();
    };
    const onClientAbort = () => abort('cancelled');
    if (req.signal?.aborted) throw new UpstreamFailure('cancelled', 'the client disconnected');
    req.signal?.addEventListener('abort', onClientAbort, { once: true });
    const totalTimer = setTimeout(() => abort('timeout'), req.timeouts.totalMs);
    totalTimer.unref();
    let done = false;
    const cleanup = () => {
      if (done) return;
      done = true;
      clearTimeout(totalTimer);
      req.signal?.removeEventListener('abort', onClientAbort);
    };
    const failure = (e: unknown): UpstreamFailure => {
      if (e instanceof UpstreamFailure) return e;
      if (abortKind === 'cancelled') return new UpstreamFailure('cancelled', 'the client disconnected');
      if (abortKind === 'timeout') {
        return new UpstreamFailure('timeout', `no complete answer within ${req.timeouts.totalMs} ms`);
      }
      return classify(e, req.timeouts);
    };

    let res: Dispatcher.ResponseData;
    try {
      res = await this.agent(req.poolKey, req.timeouts.connectMs).request({
        origin: url.origin,
        path: url.pathname + url.search,
        method: req.method,
        headers: req.headers,
        body: req.body,
        signal: controller.signal,
        headersTimeout: req.timeouts.firstByteMs,
        bodyTimeout: req.timeouts.firstByteMs,
      });
    } catch (e) {
      cleanup();
      throw failure(e);
    }
    const body = res.body as Readable & AsyncIterable<Buffer>;
    const close = () => {
      if (!body.destroyed) body.destroy();
      cleanup();
    };
    return {
      status: res.statusCode,
      headers: res.headers,
      close,
      async *chunks() {
        try {
          for await (const chunk of body) yield chunk;
        } catch (e) {
          throw failure(e);
        } finally {
          close();
        }
      },
      async text() {
        try {
          return await res.body.text();
        } catch (e) {
          throw failure(e);
        } finally {
          close();
        }
      },
    };
  }
}

function classify(e: unknown, timeouts: UpstreamTimeouts): UpstreamFailure {
  const err = e as { code?: string; message?: string; cause?: { code?: string } };
  const code = err?.code ?? err?.cause?.code ?? '';
  if (code === 'UND_ERR_HEADERS_TIMEOUT') {
    return new UpstreamFailure('timeout', `the upstream sent no answer within ${timeouts.firstByteMs} ms`);
  }
  if (code === 'UND_ERR_BODY_TIMEOUT') {
    return new UpstreamFailure('timeout', `the upstream went silent for ${timeouts.firstByteMs} ms`);
  }
  if (code === 'UND_ERR_CONNECT_TIMEOUT') {
    return new UpstreamFailure('timeout', `could not connect within ${timeouts.connectMs} ms`);
  }
  if (code === 'ERR_UNSAFE_UPSTREAM') return new UpstreamFailure('refused', err.message ?? 'unsafe upstream');
  if (CONNECT_ERRORS.has(code)) return new UpstreamFailure('connect', `connection failed (${code})`);
  return new UpstreamFailure('network', `upstream connection error (${code || 'unknown'})`);
}
