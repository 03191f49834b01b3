import { Injectable, Logger } from '@nestjs/common';
import { performance } from 'node:perf_hooks';
import { ChannelHealth } from '../channels/channel-health';
import { ChannelRuntimes, type RuntimeChannel } from '../channels/channel-runtimes';
import { scrubUpstreamMessage } from '../channels/scrub';
import {
  UpstreamFailure,
  UpstreamHttp,
  type UpstreamHttpRequest,
  type UpstreamHttpResponse,
} from '../channels/upstream-http';
import type { UpstreamError, UpstreamRequest } from '../relay';
import { answered, type AttemptRecord, type AttemptResult, type Exchange } from './exchange';
import { isRetryableStatus, retryAfterMs } from './failover-policy';

/** A 2xx answer to read, or the attempt already settled (failed over, or answered with an error). */
export type SendOutcome = { kind: 'response'; res: UpstreamHttpResponse; started: number } | AttemptResult;

export interface SendOptions {
  /** Builds the HTTP request (JSON body by default; multipart endpoints pass their own). */
  build?: () => Promise<UpstreamHttpRequest>;
  /** Reads a provider error body into its type and message. */
  decodeError: (status: number, bodyText: string) => UpstreamError;
}

/**
 * What every kind of attempt shares: sending one request to one channel with the client's abort signal,
 * and classifying what went wrong — retryable (connect errors, timeouts, 429, 401/402/403, 5xx: the
 * channel's health takes the hit and the next channel is tried) or final (400, 404, …: the provider's
 * error goes back in the caller's envelope, scrubbed of credentials and internal URLs).
 */
@Injectable()
export class UpstreamAttempts {
  private readonly logger = new Logger(UpstreamAttempts.name);

  constructor(
    readonly health: ChannelHealth,
    readonly runtimes: ChannelRuntimes,
    private readonly http: UpstreamHttp,
  ) {}

  record(ex: Exchange, channel: RuntimeChannel): AttemptRecord {
    const record: AttemptRecord = {
      channelId: channel.id,
      channelName: channel.name,
      outcome: 'pending',
      httpStatus: null,
      startedAtMs: performance.now(),
    };
    ex.attempts.push(record);
    return record;
  }

  /** A channel that cannot be used at all (unreadable credentials, no base URL). */
  misconfigured(channel: RuntimeChannel, record: AttemptRecord): AttemptResult {
    record.outcome = 'misconfigured';
    const message = channel.problem ?? 'the channel is misconfigured';
    this.health.recordFailure(channel.id, { type: 'misconfigured', message });
    return { kind: 'retry', failure: { kind: 'failed', message } };
  }

  async send(
    ex: Exchange,
    channel: RuntimeChannel,
    record: AttemptRecord,
    up: UpstreamRequest,
    opts: SendOptions,
  ): Promise<SendOutcome> {
    const started = performance.now();
    let res: UpstreamHttpResponse;
    try {
      const request = opts.build
        ? await opts.build()
        : await this.runtimes.httpRequest(channel, up, {
            clientHeaders: ex.request.headers,
            signal: ex.client.signal,
          });
      res = await this.http.send(request);
    } catch (e) {
      ex.upstreamMs += performance.now() - started;
      return this.failed(ex, channel, record, e);
    }
    if (res.status < 400) return { kind: 'response', res, started };

    const text = await res.text().catch(() => '');
    ex.upstreamMs += performance.now() - started;
    record.httpStatus = res.status;
    const upstream = opts.decodeError(res.status, text);
    const message = scrubUpstreamMessage(upstream.message, channel);
    if (isRetryableStatus(res.status)) {
      record.outcome = 'upstream_error';
      this.health.recordFailure(channel.id, {
        status: res.status,
        type: upstream.type,
        message,
        retryAfterMs: retryAfterMs(res.headers['retry-after']),
      });
      return { kind: 'retry', failure: { kind: 'failed', message } };
    }
    // The request itself is wrong for the provider: its answer goes back as is, in the caller's envelope.
    record.outcome = 'client_error';
    ex.channel = channel;
    ex.sendError({ status: res.status, code: upstream.type, upstreamType: upstream.type, message });
    return answered;
  }

  /** An exchange that broke without an HTTP answer (connect error, timeout, cut, client gone). */
  failed(ex: Exchange, channel: RuntimeChannel, record: AttemptRecord, e: unknown): AttemptResult {
    if (!(e instanceof UpstreamFailure)) throw e;
    if (e.kind === 'cancelled') {
      record.outcome = 'cancelled';
      ex.cancelled();
      return answered;
    }
    record.outcome = e.kind === 'timeout' ? 'timeout' : e.kind === 'refused' ? 'refused' : 'connect_error';
    this.health.recordFailure(channel.id, { type: e.kind, message: e.message });
    this.logger.warn(`channel ${channel.name}: ${e.message}`);
    return {
      kind: 'retry',
      failure: { kind: e.kind === 'timeout' ? 'timeout' : 'failed', message: e.message },
    };
  }

  /** A 2xx answer the gateway could not read: the channel is at fault, the next one may answer. */
  unreadable(channel: RuntimeChannel, record: AttemptRecord, status: number, message: string): AttemptResult {
    record.outcome = 'invalid_response';
    record.httpStatus = status;
    this.health.recordFailure(channel.id, { status, type: 'invalid_response', message });
    return { kind: 'retry', failure: { kind: 'failed', message } };
  }

  succeeded(
    ex: Exchange,
    channel: RuntimeChannel,
    record: AttemptRecord,
    status: number,
    latencyMs: number,
  ): void {
    record.outcome = 'success';
    record.httpStatus = status;
    ex.channel = channel;
    this.health.recordSuccess(channel.id, latencyMs);
  }
}
