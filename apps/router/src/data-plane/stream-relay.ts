import { Injectable } from '@nestjs/common';
import { ErrorCodes } from '@torouter/contracts';
import { performance } from 'node:perf_hooks';
import type { RuntimeChannel } from '../channels/channel-runtimes';
import { scrubUpstreamMessage } from '../channels/scrub';
import { UpstreamFailure, type UpstreamHttpResponse } from '../channels/upstream-http';
import {
  RawSseSplitter,
  relayPassThroughEvent,
  wireAdapters,
  type CanonicalStreamEvent,
  type GatewayError,
  type UpstreamByteStreamDecoder,
} from '../relay';
import { answered, StreamWriter, type AttemptRecord, type AttemptResult, type Exchange } from './exchange';
import { isRetryableStatus } from './failover-policy';
import { UpstreamAttempts } from './upstream-attempts';

type StreamError = Extract<CanonicalStreamEvent, { type: 'error' }>;

export interface StreamMode {
  /** Client and channel speak the same format: relay the upstream's events untouched. */
  passThrough: boolean;
  /** For translation: the channel format's decoder (bytes → canonical events). */
  decoder?: UpstreamByteStreamDecoder;
  /** Runs once the upstream stream ended cleanly, before the client's terminator (fetch late usage). */
  beforeEnd?: () => Promise<void>;
}

/**
 * Relays one upstream stream to the client as each chunk arrives. Until the first byte is written the
 * attempt can still fail over (a cut, an error event, a timeout); after it, an upstream failure ends the
 * client's stream with an error event in its own format — never a splice of two answers.
 */
@Injectable()
export class StreamRelay {
  constructor(private readonly attempts: UpstreamAttempts) {}

  async relay(
    ex: Exchange,
    channel: RuntimeChannel,
    record: AttemptRecord,
    res: UpstreamHttpResponse,
    started: number,
    mode: StreamMode,
  ): Promise<AttemptResult> {
    record.httpStatus = res.status;
    const { passThrough } = mode;
    const clientAdapter = wireAdapters[ex.surface];
    const encoder = ex.answerCodec.createStreamEncoder(ex.canonical, { model: ex.target.requested });
    const splitter = passThrough ? new RawSseSplitter() : undefined;
    const textDecoder = passThrough ? new TextDecoder() : undefined;
    const sameFormatDecoder = passThrough ? clientAdapter.createUpstreamStreamDecoder() : undefined;
    const translator = mode.decoder;
    if (!passThrough && !translator) throw new Error('a translated stream needs a decoder');
    let upstreamError: StreamError | undefined;

    /** Turns upstream events into client text; stops at the first error event. */
    const translate = (events: CanonicalStreamEvent[]): string => {
      let out = '';
      for (const event of events) {
        if (upstreamError) break;
        ex.meter.observe(event);
        if (event.type === 'error') {
          upstreamError = event;
          // Once anything reaches the client, the error ends its stream; before that, failover decides.
          if (ex.committed || out) out += encoder.encode(event);
          break;
        }
        out += encoder.encode(event);
      }
      return out;
    };
    /** Same format: whole upstream events relayed untouched (the usage event gets its cost). */
    const relayRaw = (text: string, final = false): string => {
      let out = '';
      for (const raw of final ? [...splitter!.push(text), ...splitter!.end()] : splitter!.push(text)) {
        if (upstreamError) break;
        const events = sameFormatDecoder!.push(raw.text);
        for (const event of events) ex.meter.observe(event);
        const error = events.find((e): e is StreamError => e.type === 'error');
        if (error) {
          upstreamError = error;
          if (ex.committed || out) out += raw.text; // already in the client's format
          break;
        }
        out += relayPassThroughEvent(ex.surface, raw, {
          clientWantsUsage: ex.canonical.streamUsage === true,
          costUsd: () => ex.costUsd(),
        });
      }
      return out;
    };
    const writer = new StreamWriter(ex, encoder.contentType, started);

    let failure: UpstreamFailure | undefined;
    try {
      for await (const chunk of res.chunks()) {
        const out = passThrough
          ? relayRaw(textDecoder!.decode(chunk, { stream: true }))
          : translate(translator!.push(chunk));
        if (out) await writer.write(out);
        if (upstreamError) break;
      }
    } catch (e) {
      if (!(e instanceof UpstreamFailure)) throw e;
      failure = e;
    } finally {
      res.close();
    }

    if (failure?.kind === 'cancelled' || ex.clientGone) {
      record.outcome = 'cancelled';
      writer.destroy();
      ex.cancelled();
      return answered;
    }

    if (!failure && !upstreamError) {
      // The upstream closed: flush what is left and let the decoder say whether the answer was complete.
      let end = passThrough ? relayRaw(textDecoder!.decode(), true) : translate(translator!.end());
      if (passThrough && !upstreamError) {
        for (const event of sameFormatDecoder!.end()) {
          ex.meter.observe(event);
          if (event.type === 'error' && !upstreamError) upstreamError = event;
        }
        if (upstreamError && ex.committed) end += encoder.error(streamErrorOf(upstreamError));
      }
      if (!upstreamError && !passThrough) {
        await mode.beforeEnd?.();
        end += encoder.end({ usage: ex.meter.result().usage, costUsd: ex.costUsd() });
      }
      if (end && (!upstreamError || ex.committed)) await writer.write(end);
    }

    if (!ex.committed) {
      // Nothing reached the client: this channel failed and the next one may answer.
      ex.upstreamMs += performance.now() - started;
      if (failure) return this.attempts.failed(ex, channel, record, failure);
      const error = upstreamError ?? {
        type: 'error' as const,
        errorType: 'upstream_invalid_response',
        message: 'empty stream',
      };
      const status = error.status ?? 502;
      const message = scrubUpstreamMessage(error.message, channel);
      if (status >= 400 && status < 500 && !isRetryableStatus(status)) {
        record.outcome = 'client_error';
        ex.channel = channel;
        ex.sendError({ status, code: error.errorType, upstreamType: error.errorType, message });
        return answered;
      }
      record.outcome = error.errorType === 'upstream_stream_incomplete' ? 'stream_cut' : 'upstream_error';
      this.attempts.health.recordFailure(channel.id, {
        status: error.status,
        type: error.errorType,
        message,
      });
      return { kind: 'retry', failure: { kind: 'failed', message } };
    }

    ex.channel = channel;
    ex.httpStatus = 200;
    if (failure) {
      // Cut after the first byte: end the stream with an error event in the caller's format, never a splice.
      const timeout = failure.kind === 'timeout';
      const err: GatewayError = {
        status: timeout ? 504 : 502,
        code: timeout ? ErrorCodes.UPSTREAM_TIMEOUT : 'upstream_stream_incomplete',
        message: timeout ? failure.message : `the upstream connection broke mid-stream: ${failure.message}`,
      };
      await writer.write(encoder.error(err));
      record.outcome = timeout ? 'timeout' : 'stream_cut';
      this.attempts.health.recordFailure(channel.id, { type: failure.kind, message: failure.message });
      ex.status = 'error';
      ex.errorCode = err.code;
    } else if (upstreamError) {
      record.outcome =
        upstreamError.errorType === 'upstream_stream_incomplete' ? 'stream_cut' : 'upstream_error';
      this.attempts.health.recordFailure(channel.id, {
        status: upstreamError.status,
        type: upstreamError.errorType,
        message: scrubUpstreamMessage(upstreamError.message, channel),
      });
      ex.status = 'error';
      ex.errorCode = upstreamError.errorType;
    } else {
      this.attempts.succeeded(ex, channel, record, res.status, performance.now() - started);
      ex.status = 'success';
    }
    writer.end();
    return answered;
  }
}

function streamErrorOf(event: StreamError): GatewayError {
  return {
    status: event.status ?? 502,
    code: event.errorType,
    upstreamType: event.errorType,
    message: event.message,
  };
}
