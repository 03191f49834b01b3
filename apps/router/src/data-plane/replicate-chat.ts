import { Injectable } from '@nestjs/common';
import { performance } from 'node:perf_hooks';
import type { RuntimeChannel } from '../channels/channel-runtimes';
import { UpstreamFailure, UpstreamHttp } from '../channels/upstream-http';
import { InvalidRequestError, UpstreamProtocolError, type UpstreamRequest } from '../relay';
import {
  decodeReplicateError,
  encodeReplicateRequest,
  isTerminal,
  predictionToResponse,
  readPrediction,
  ReplicateStreamDecoder,
  replicateUsage,
  type Prediction,
} from '../relay/upstream/replicate-predictions';
import { answered, type AttemptRecord, type AttemptResult, type Exchange } from './exchange';
import { StreamRelay } from './stream-relay';
import { UpstreamAttempts } from './upstream-attempts';

/** How long `Prefer: wait` holds the create call open (Replicate's maximum is 60 s). */
const PREFER_WAIT_SECONDS = 60;
const POLL_INTERVAL_MS = 500;

/**
 * Chat on a Replicate channel: create a prediction (waiting for it with `Prefer: wait`, polling
 * `urls.get` if it is still running), or for streams create it with `stream: true` and relay
 * `urls.stream`; the usage comes from the finished prediction's metrics.
 */
@Injectable()
export class ReplicateChat {
  constructor(
    private readonly attempts: UpstreamAttempts,
    private readonly streams: StreamRelay,
    private readonly http: UpstreamHttp,
  ) {}

  async attempt(
    ex: Exchange,
    channel: RuntimeChannel,
    record: AttemptRecord,
    upstreamModel: string,
  ): Promise<AttemptResult> {
    let up: UpstreamRequest;
    try {
      up = encodeReplicateRequest(ex.canonical, upstreamModel);
    } catch (e) {
      if (!(e instanceof InvalidRequestError)) throw e;
      record.outcome = 'unsupported';
      return { kind: 'retry', failure: { kind: 'unsupported', message: e.message, error: e } };
    }
    if (!ex.canonical.stream) up.headers = { prefer: `wait=${PREFER_WAIT_SECONDS}` };
    const sent = await this.attempts.send(ex, channel, record, up, { decodeError: decodeReplicateError });
    if (sent.kind !== 'response') return sent;
    const { res, started } = sent;

    let prediction: Prediction;
    try {
      prediction = readPrediction(JSON.parse(await res.text()));
    } catch (e) {
      if (e instanceof UpstreamFailure) return this.attempts.failed(ex, channel, record, e);
      if (e instanceof SyntaxError || e instanceof UpstreamProtocolError) {
        return this.attempts.unreadable(
          channel,
          record,
          res.status,
          'the upstream answered with an unreadable prediction',
        );
      }
      throw e;
    }

    if (ex.canonical.stream && prediction.urls.stream) {
      let stream;
      try {
        stream = await this.http.send(
          await this.attempts.runtimes.httpRequest(
            channel,
            { path: '', body: {}, headers: { accept: 'text/event-stream', 'cache-control': 'no-store' } },
            { url: prediction.urls.stream, method: 'GET', signal: ex.client.signal },
          ),
        );
      } catch (e) {
        return this.attempts.failed(ex, channel, record, e);
      }
      if (stream.status >= 400) {
        const text = await stream.text().catch(() => '');
        record.httpStatus = stream.status;
        record.outcome = 'upstream_error';
        const upstream = decodeReplicateError(stream.status, text);
        this.attempts.health.recordFailure(channel.id, { status: stream.status, ...upstream });
        return { kind: 'retry', failure: { kind: 'failed', message: upstream.message } };
      }
      const getUrl = prediction.urls.get;
      return this.streams.relay(ex, channel, record, stream, started, {
        passThrough: false,
        decoder: new ReplicateStreamDecoder(prediction.id),
        // The token counts arrive with the finished prediction, not in the stream.
        beforeEnd: async () => {
          if (!getUrl) return;
          const done = await this.waitFor(ex, channel, getUrl, 5_000).catch(() => undefined);
          const usage = done ? replicateUsage(done.metrics) : undefined;
          if (usage) ex.meter.observe({ type: 'usage', usage });
        },
      });
    }

    try {
      if (!isTerminal(prediction.status)) {
        if (!prediction.urls.get) {
          return this.attempts.unreadable(
            channel,
            record,
            res.status,
            'the prediction is still running and has no urls.get',
          );
        }
        prediction = await this.waitFor(ex, channel, prediction.urls.get, channel.timeouts.totalMs);
      }
    } catch (e) {
      ex.upstreamMs += performance.now() - started;
      if (e instanceof UpstreamFailure) return this.attempts.failed(ex, channel, record, e);
      if (e instanceof SyntaxError || e instanceof UpstreamProtocolError) {
        return this.attempts.unreadable(
          channel,
          record,
          res.status,
          'the upstream answered with an unreadable prediction',
        );
      }
      throw e;
    }
    const latency = performance.now() - started;
    ex.upstreamMs += latency;
    if (prediction.status !== 'succeeded') {
      record.httpStatus = res.status;
      record.outcome = 'upstream_error';
      const message = `the prediction ${prediction.status}: ${prediction.error ?? 'no detail'}`;
      this.attempts.health.recordFailure(channel.id, { type: `prediction_${prediction.status}`, message });
      return { kind: 'retry', failure: { kind: 'failed', message } };
    }
    const decoded = predictionToResponse(prediction);
    ex.meter.observeResponse(decoded);
    const body = ex.answerCodec.encodeResponse(
      { ...decoded, model: ex.target.requested, usage: ex.meter.result().usage },
      { costUsd: ex.costUsd() },
    );
    this.attempts.succeeded(ex, channel, record, res.status, latency);
    ex.sendJson(200, body);
    return answered;
  }

  /** Polls a prediction until it finishes (or the deadline passes: an upstream timeout). */
  private async waitFor(
    ex: Exchange,
    channel: RuntimeChannel,
    url: string,
    deadlineMs: number,
  ): Promise<Prediction> {
    const deadline = Date.now() + deadlineMs;
    for (;;) {
      const res = await this.http.send(
        await this.attempts.runtimes.httpRequest(
          channel,
          { path: '', body: {} },
          { url, method: 'GET', signal: ex.client.signal },
        ),
      );
      const text = await res.text();
      if (res.status >= 400)
        throw new UpstreamFailure('network', `polling the prediction answered HTTP ${res.status}`);
      const prediction = readPrediction(JSON.parse(text));
      if (isTerminal(prediction.status)) return prediction;
      if (Date.now() + POLL_INTERVAL_MS > deadline) {
        throw new UpstreamFailure('timeout', `the prediction did not finish within ${deadlineMs} ms`);
      }
      await new Promise((r) => setTimeout(r, POLL_INTERVAL_MS));
      if (ex.clientGone) throw new UpstreamFailure('cancelled', 'the client disconnected');
    }
  }
}
