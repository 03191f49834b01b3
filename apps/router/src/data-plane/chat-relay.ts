import { Injectable } from '@nestjs/common';
import { performance } from 'node:perf_hooks';
import type { RuntimeChannel } from '../channels/channel-runtimes';
import { upstreamCodecFor } from '../channels/upstream-codecs';
import type { UpstreamHttpResponse } from '../channels/upstream-http';
import {
  addCostToResponse,
  DemoProvider,
  InvalidRequestError,
  UpstreamProtocolError,
  wireAdapters,
  type UpstreamRequest,
  type WireFormat,
} from '../relay';
import { answered, StreamWriter, type AttemptRecord, type AttemptResult, type Exchange } from './exchange';
import { ReplicateChat } from './replicate-chat';
import { StreamRelay } from './stream-relay';
import { UpstreamAttempts } from './upstream-attempts';

const thinkingSuffix = '-thinking';

/**
 * One chat attempt on one channel. Same format on both sides (and no `-thinking` to switch on): the
 * client's body goes upstream as sent (model swapped) and the answer comes back byte for byte, usage read
 * on the way. Otherwise the canonical request is encoded for the channel and its answer decoded and
 * re-encoded in the client's format, event by event for streams.
 */
@Injectable()
export class ChatRelay {
  constructor(
    private readonly attempts: UpstreamAttempts,
    private readonly demo: DemoProvider,
    private readonly replicate: ReplicateChat,
    private readonly streams: StreamRelay,
  ) {}

  async attempt(ex: Exchange, channel: RuntimeChannel): Promise<AttemptResult> {
    const record = this.attempts.record(ex, channel);
    if (channel.problem) return this.attempts.misconfigured(channel, record);
    if (channel.spec.wire === 'demo') return this.answerDemo(ex, channel, record);
    const upstreamModel = upstreamModelFor(ex, channel);
    if (channel.spec.wire === 'replicate') return this.replicate.attempt(ex, channel, record, upstreamModel);

    const passThrough = channel.spec.wire === ex.surface && !ex.target.thinking && !ex.answerOverride;
    const codec = upstreamCodecFor(channel.spec.wire);
    let up: UpstreamRequest;
    try {
      up = passThrough
        ? passThroughRequest(ex.surface, ex.body, ex.canonical.stream, upstreamModel)
        : codec.encodeUpstreamRequest(ex.canonical, upstreamModel);
    } catch (e) {
      if (e instanceof InvalidRequestError) {
        // This channel's format cannot express the request; another channel's may.
        record.outcome = 'unsupported';
        return { kind: 'retry', failure: { kind: 'unsupported', message: e.message, error: e } };
      }
      throw e;
    }
    if (channel.spec.legacyMaxTokens) useLegacyMaxTokens(up.body);

    const sent = await this.attempts.send(ex, channel, record, up, {
      decodeError: (status, text) => codec.decodeUpstreamError(status, text),
    });
    if (sent.kind !== 'response') return sent;
    if (!ex.canonical.stream) return this.relayJson(ex, channel, record, sent.res, sent.started, passThrough);
    return this.streams.relay(ex, channel, record, sent.res, sent.started, {
      passThrough,
      decoder: passThrough ? undefined : codec.createStreamDecoder(),
    });
  }

  private async relayJson(
    ex: Exchange,
    channel: RuntimeChannel,
    record: AttemptRecord,
    res: UpstreamHttpResponse,
    started: number,
    passThrough: boolean,
  ): Promise<AttemptResult> {
    let text: string;
    try {
      text = await res.text();
    } catch (e) {
      ex.upstreamMs += performance.now() - started;
      return this.attempts.failed(ex, channel, record, e);
    }
    const latency = performance.now() - started;
    ex.upstreamMs += latency;
    const clientAdapter = wireAdapters[ex.surface];
    let body: unknown;
    try {
      const json: unknown = JSON.parse(text);
      if (passThrough) {
        const usage = clientAdapter.extractUsageFromResponse(json);
        if (usage) ex.meter.setUpstreamUsage(usage);
        else ex.meter.observeResponse(clientAdapter.decodeUpstreamResponse(json));
        addCostToResponse(ex.surface, json, ex.costUsd());
        body = json;
      } else {
        const decoded = upstreamCodecFor(channel.spec.wire).decodeUpstreamResponse(json);
        ex.meter.observeResponse(decoded);
        const usage = ex.meter.result().usage;
        body = ex.answerCodec.encodeResponse(
          { ...decoded, model: ex.target.requested, usage },
          { costUsd: ex.costUsd() },
        );
      }
    } catch (e) {
      if (!(e instanceof SyntaxError) && !(e instanceof UpstreamProtocolError)) throw e;
      return this.attempts.unreadable(
        channel,
        record,
        res.status,
        'the upstream answered with an unreadable body',
      );
    }
    this.attempts.succeeded(ex, channel, record, res.status, latency);
    ex.sendJson(200, body);
    return answered;
  }

  private async answerDemo(
    ex: Exchange,
    channel: RuntimeChannel,
    record: AttemptRecord,
  ): Promise<AttemptResult> {
    const req = { ...ex.canonical, model: ex.target.requested };
    const adapter = ex.answerCodec;
    this.attempts.succeeded(ex, channel, record, 200, 0);
    if (!req.stream) {
      const res = this.demo.complete(req);
      ex.meter.observeResponse(res);
      ex.sendJson(
        200,
        adapter.encodeResponse({ ...res, model: ex.target.requested }, { costUsd: ex.costUsd() }),
      );
      return answered;
    }
    const encoder = adapter.createStreamEncoder(req, { model: ex.target.requested });
    const writer = new StreamWriter(ex, encoder.contentType, performance.now());
    for await (const event of this.demo.stream(req)) {
      if (ex.clientGone) {
        record.outcome = 'cancelled';
        ex.cancelled();
        return answered;
      }
      ex.meter.observe(event);
      const text = encoder.encode(event);
      if (text) await writer.write(text);
    }
    await writer.write(encoder.end({ usage: ex.meter.result().usage, costUsd: ex.costUsd() }));
    writer.end();
    ex.status = 'success';
    ex.httpStatus = 200;
    return answered;
  }
}

/** The model id the channel is asked for: its mapping, the vendor-prefixed id as sent, or the catalog id. */
export function upstreamModelFor(ex: Exchange, channel: RuntimeChannel): string {
  const mapping = channel.modelMapping;
  const base = ex.target.model.id;
  const requested = ex.target.thinking
    ? ex.target.requested.slice(0, -thinkingSuffix.length)
    : ex.target.requested;
  return mapping[requested] ?? mapping[base] ?? ex.target.vendorPrefixed ?? base;
}

/**
 * The client's own body for a same-format channel: everything it sent reaches the upstream untouched,
 * except the model (the channel's id for it) and, for OpenAI streams, `stream_options.include_usage`,
 * which the gateway needs to bill.
 */
function passThroughRequest(
  format: WireFormat,
  clientBody: Record<string, unknown>,
  stream: boolean,
  upstreamModel: string,
): UpstreamRequest {
  switch (format) {
    case 'openai': {
      const body: Record<string, unknown> = { ...clientBody, model: upstreamModel };
      if (stream) {
        const options = isRecord(clientBody.stream_options) ? clientBody.stream_options : {};
        body.stream_options = { ...options, include_usage: true };
      }
      return { path: '/chat/completions', body };
    }
    case 'anthropic':
      return { path: '/v1/messages', body: { ...clientBody, model: upstreamModel } };
    case 'gemini': {
      const method = stream ? 'streamGenerateContent?alt=sse' : 'generateContent';
      const model = upstreamModel.replace(/^models\//, '');
      return { path: `/v1beta/models/${encodeURIComponent(model)}:${method}`, body: clientBody };
    }
  }
}

/** OpenAI-compatible APIs that predate `max_completion_tokens` only read `max_tokens`. */
export function useLegacyMaxTokens(body: Record<string, unknown>): void {
  if (body.max_completion_tokens !== undefined && body.max_tokens === undefined) {
    body.max_tokens = body.max_completion_tokens;
    delete body.max_completion_tokens;
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
