import { applyMultiplierBp, microToUsd } from '@torouter/money';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { performance } from 'node:perf_hooks';
import type { Caller } from '../access/access.service';
import type { ModelEntity } from '../catalog/model.entity';
import type { RuntimeChannel } from '../channels/channel-runtimes';
import {
  wireAdapters,
  type CanonicalRequest,
  type GatewayError,
  type InvalidRequestError,
  type WireAdapter,
  type WireFormat,
} from '../relay';
import { OVERHEAD_HEADER } from './overhead';
import { priceUsage } from './pricing';
import { UsageMeter } from './usage-meter';

/** The model a request resolved to, and how the requested string maps onto it. */
export interface ResolvedModel {
  model: ModelEntity;
  /** The string the client sent. */
  requested: string;
  /** `-thinking` was stripped: reasoning is switched on upstream. */
  thinking: boolean;
  /** `vendor/model`: only OpenRouter-style channels may serve it, and they get it unchanged. */
  vendorPrefixed?: string;
}

/** One upstream attempt as the usage record reports it. */
export interface AttemptRecord {
  channelId: string;
  channelName: string;
  outcome: string;
  httpStatus: number | null;
  /** performance.now() when the attempt began; it ends when the next one begins, or with the request. */
  startedAtMs: number;
}

export interface AttemptFailure {
  /** timeout → 504 if it was the last; unsupported → the request cannot go to that channel's format. */
  kind: 'timeout' | 'failed' | 'unsupported';
  message: string;
  error?: InvalidRequestError;
}

/** How an attempt ended. `answered`: the client got its response (success or a final error). */
export type AttemptResult = { kind: 'answered' } | { kind: 'retry'; failure: AttemptFailure };

export const answered: AttemptResult = { kind: 'answered' };

/** How a translated answer is written for the client: its surface's adapter, or the Responses API's. */
export type AnswerCodec = Pick<WireAdapter, 'encodeResponse' | 'createStreamEncoder'>;

/** Everything one proxied request accumulates, from admission to its usage record. */
export class Exchange {
  readonly startedAt = new Date();
  readonly attempts: AttemptRecord[] = [];
  readonly meter: UsageMeter;
  readonly client = new AbortController();
  /** Time spent waiting on upstreams, for x-torouter-overhead-ms. */
  upstreamMs = 0;
  ttftMs: number | null = null;
  channel: RuntimeChannel | undefined;
  status: 'success' | 'error' | 'cancelled' = 'error';
  httpStatus = 502;
  errorCode: string | null = null;
  /** The first byte of the answer went out: failover is over. */
  committed = false;
  /** The plan the request runs under (billing's), and its price multiplier in basis points. */
  planId: string | null = null;
  multiplierBp = 10_000;
  /** How many times the model's per-request price applies (images: one per image). */
  perRequestUnits = 1;
  /** Set when the client's API is not its surface's chat format (the Responses API): no pass-through. */
  answerOverride: AnswerCodec | undefined;
  /** The answer's completion (a JSON body, a stream's end), held until the request's usage is journaled. */
  private pendingFinish: (() => void) | undefined;

  constructor(
    /** The client's wire format (error envelopes, stream encoders). */
    readonly surface: WireFormat,
    readonly endpoint: string,
    readonly request: FastifyRequest,
    readonly reply: FastifyReply,
    readonly caller: Caller,
    readonly canonical: CanonicalRequest,
    readonly body: Record<string, unknown>,
    readonly target: ResolvedModel,
  ) {
    this.meter = new UsageMeter(canonical);
  }

  /** Encodes translated answers for the client. */
  get answerCodec(): AnswerCodec {
    return this.answerOverride ?? wireAdapters[this.surface];
  }

  get clientGone(): boolean {
    return this.client.signal.aborted;
  }

  /** Time in the gateway itself so far: everything except waiting on upstreams. */
  overheadMs(): number {
    return Math.max(0, Math.round((this.reply.elapsedTime - this.upstreamMs) * 10) / 10);
  }

  /** The list-price cost of what the meter holds now, per-request price included (micro-USD). */
  listCostMicroUsd(): number {
    const { usage } = this.meter.result();
    const extraUnits = Math.max(0, this.perRequestUnits - 1);
    return priceUsage(usage, this.target.model) + (this.target.model.perRequestMicroUsd ?? 0) * extraUnits;
  }

  /** What the request costs the customer so far in USD (× the plan's multiplier), for `usage.cost`. */
  costUsd(): number {
    return microToUsd(applyMultiplierBp(this.listCostMicroUsd(), this.multiplierBp));
  }

  /** The list cost to settle: a failed request adds no spend; a client that left pays for what it got. */
  settledListCostMicroUsd(): number {
    // A failure that produced nothing costs nothing; a stream cut (by the upstream or the client) after
    // output is billed for what was produced, counted locally when the upstream never said (PITFALLS:
    // streams billed as zero).
    if (this.status !== 'success' && !this.meter.hasOutput && !this.meter.hasUpstreamUsage) return 0;
    return this.listCostMicroUsd();
  }

  cancelled(): void {
    this.status = 'cancelled';
    this.httpStatus = 499;
    this.errorCode = 'client_closed_request';
  }

  /** A JSON answer, with the gateway's overhead header; sent by `finishAnswer`. */
  sendJson(status: number, body: unknown): void {
    if (status < 400) {
      this.status = 'success';
      this.httpStatus = status;
    }
    this.pendingFinish = () =>
      void this.reply
        .status(status)
        .header(OVERHEAD_HEADER, String(this.overheadMs()))
        .type('application/json')
        .send(body);
  }

  /** Ends a streamed answer; done by `finishAnswer`. */
  endStream(): void {
    const raw = this.reply.raw;
    this.pendingFinish = () => {
      if (this.committed && !raw.writableEnded) raw.end();
    };
  }

  /**
   * Completes the answer: the JSON body, or the end of the stream. Called once the request's usage is
   * journaled, so a client never holds a complete JSON answer whose usage could still be lost (a stream's
   * events, its terminator included, were relayed as they arrived; only its HTTP end waits).
   */
  finishAnswer(): void {
    const finish = this.pendingFinish;
    this.pendingFinish = undefined;
    finish?.();
  }

  /** An error answer in the client's envelope (an upstream's own error keeps its type and message). */
  sendError(err: GatewayError): void {
    this.status = 'error';
    this.httpStatus = err.status;
    this.errorCode = err.code;
    this.sendJson(err.status, wireAdapters[this.surface].encodeError(err));
  }
}

/** Writes a streamed answer to the client as it is produced, committing the status line on the first byte. */
export class StreamWriter {
  constructor(
    private readonly ex: Exchange,
    private readonly contentType: string,
    private readonly attemptStarted: number,
  ) {}

  async write(chunk: string | Uint8Array): Promise<void> {
    const { ex } = this;
    const raw = ex.reply.raw;
    if (!ex.committed) {
      ex.committed = true;
      ex.upstreamMs += performance.now() - this.attemptStarted;
      ex.ttftMs = Math.round(ex.reply.elapsedTime);
      ex.reply.hijack();
      raw.writeHead(200, {
        ...(ex.reply.getHeaders() as Record<string, string>),
        [OVERHEAD_HEADER]: String(ex.overheadMs()),
        'content-type': this.contentType,
        'cache-control': 'no-cache',
        connection: 'keep-alive',
        'x-accel-buffering': 'no',
      });
    }
    if (raw.destroyed || raw.writableEnded) return;
    if (!raw.write(chunk)) {
      // Slow client: wait for the socket to drain (reading from the upstream pauses meanwhile).
      await new Promise<void>((resolve) => {
        const done = () => {
          raw.off('drain', done);
          raw.off('close', done);
          resolve();
        };
        raw.once('drain', done);
        raw.once('close', done);
      });
    }
  }

  /** The stream is complete; it ends once the request's usage is journaled (`Exchange.finishAnswer`). */
  end(): void {
    this.ex.endStream();
  }

  destroy(): void {
    const raw = this.ex.reply.raw;
    if (this.ex.committed && !raw.destroyed) raw.destroy();
  }
}
