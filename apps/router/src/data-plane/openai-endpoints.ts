import { Injectable } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { performance } from 'node:perf_hooks';
import type { RuntimeChannel } from '../channels/channel-runtimes';
import type { UpstreamWire } from '../channels/channel-types';
import { UpstreamFailure, type UpstreamHttpResponse } from '../channels/upstream-http';
import {
  countTextTokens,
  emptyUsage,
  formatSse,
  InvalidRequestError,
  RawSseSplitter,
  SSE_CONTENT_TYPE,
  wireAdapters,
  type CanonicalRequest,
  type CanonicalUsage,
  type UpstreamRequest,
} from '../relay';
import {
  buildMultipart,
  multipartBoundary,
  multipartField,
  parseMultipart,
  withMultipartField,
  type MultipartPart,
} from '../relay/multipart';
import { decodeResponsesRequest, responsesClientCodec } from '../relay/wire/openai-responses';
import { ChatRelay, upstreamModelFor, useLegacyMaxTokens } from './chat-relay';
import { answered, StreamWriter, type AttemptResult, type Exchange } from './exchange';
import { chatWires, RelayService } from './relay.service';
import { UpstreamAttempts } from './upstream-attempts';

type Json = Record<string, unknown>;

const openAiWires: ReadonlySet<UpstreamWire> = new Set(['openai']);

/** How one pass-through endpoint reads its answer. */
interface EndpointSpec {
  /** Path relative to the channel's OpenAI-style base URL (`/embeddings`). */
  path: string;
  /** The answer: JSON, an SSE stream (Responses with `stream: true`) or bytes (speech). */
  answer: 'json' | 'sse' | 'binary';
  /** The upstream's usage, canonical; undefined when it reported none. */
  usage?: (json: Json) => CanonicalUsage | undefined;
  /** A local count for answers without usage. */
  estimate?: (json: Json) => CanonicalUsage | undefined;
  /** How many times the per-request price applies (images: one per image). */
  units?: (json: Json) => number;
  /** Multipart uploads: the parsed parts, re-sent with the channel's model id. */
  multipart?: { parts: MultipartPart[]; boundary: string };
}

/**
 * The OpenAI endpoints other than chat — Responses, embeddings, images, audio, rerank — relayed to
 * OpenAI-format channels as sent (model swapped for the channel's id), with the same admission,
 * failover, cool-down and usage record as chat. Usage comes from each answer's own usage block, or is
 * counted locally when the provider reports none.
 */
@Injectable()
export class OpenAiEndpoints {
  constructor(
    private readonly relay: RelayService,
    private readonly attempts: UpstreamAttempts,
    private readonly chat: ChatRelay,
  ) {}

  /**
   * OpenAI-format channels get the Responses request as sent; every other channel gets it translated
   * (input items → canonical → the channel's format) and answers as a Response / its event stream. A
   * request the gateway cannot translate (stored conversations, OpenAI-only items) goes to OpenAI
   * channels only.
   */
  async responses(request: FastifyRequest, reply: FastifyReply): Promise<void> {
    const caller = await this.relay.authenticate('openai', request);
    const body = jsonBody(request.body);
    const stream = body.stream === true;
    let canonical: CanonicalRequest;
    let translatable = true;
    try {
      canonical = decodeResponsesRequest(body);
    } catch (e) {
      if (!(e instanceof InvalidRequestError)) throw e;
      translatable = false;
      canonical = canonicalOf(requireModel(body), [textOf(body.instructions), textOf(body.input)], stream);
      if (typeof body.max_output_tokens === 'number') canonical.maxTokens = body.max_output_tokens;
    }
    await this.relay.relayEndpoint(caller, request, reply, {
      surface: 'openai',
      canonical,
      body,
      wires: translatable ? chatWires : openAiWires,
      attempt: (ex, channel) => {
        if (channel.spec.wire !== 'openai') {
          ex.answerOverride = responsesClientCodec;
          return this.chat.attempt(ex, channel);
        }
        ex.answerOverride = undefined;
        return this.attempt(ex, channel, {
          path: '/responses',
          answer: stream ? 'sse' : 'json',
          usage: (json) => responsesUsage(json.usage),
        });
      },
    });
  }

  async embeddings(request: FastifyRequest, reply: FastifyReply): Promise<void> {
    const caller = await this.relay.authenticate('openai', request);
    const body = jsonBody(request.body);
    const input = textOf(body.input);
    await this.relay.relayEndpoint(caller, request, reply, {
      surface: 'openai',
      canonical: canonicalOf(requireModel(body), [input], false),
      body,
      wires: openAiWires,
      maxOutputTokens: 0,
      attempt: (ex, channel) =>
        this.attempt(ex, channel, {
          path: '/embeddings',
          answer: 'json',
          usage: (json) => promptUsage(json.usage),
          estimate: () => ({ ...emptyUsage(), inputTokens: countTextTokens(input) }),
        }),
    });
  }

  async imageGenerations(request: FastifyRequest, reply: FastifyReply): Promise<void> {
    const caller = await this.relay.authenticate('openai', request);
    const body = jsonBody(request.body);
    const prompt = textOf(body.prompt);
    await this.relay.relayEndpoint(caller, request, reply, {
      surface: 'openai',
      canonical: canonicalOf(requireModel(body), [prompt], false),
      body,
      wires: openAiWires,
      attempt: (ex, channel) =>
        this.attempt(ex, channel, {
          path: '/images/generations',
          answer: 'json',
          usage: (json) => inputOutputUsage(json.usage),
          estimate: () => ({ ...emptyUsage(), inputTokens: countTextTokens(prompt) }),
          units: (json) => (Array.isArray(json.data) ? Math.max(1, json.data.length) : 1),
        }),
    });
  }

  async imageEdits(request: FastifyRequest, reply: FastifyReply): Promise<void> {
    const caller = await this.relay.authenticate('openai', request);
    const { parts, boundary } = multipartBody(request);
    const prompt = multipartField(parts, 'prompt') ?? '';
    await this.relay.relayEndpoint(caller, request, reply, {
      surface: 'openai',
      canonical: canonicalOf(requireMultipartModel(parts), [prompt], false),
      body: {},
      wires: openAiWires,
      attempt: (ex, channel) =>
        this.attempt(ex, channel, {
          path: '/images/edits',
          answer: 'json',
          multipart: { parts, boundary },
          usage: (json) => inputOutputUsage(json.usage),
          estimate: () => ({ ...emptyUsage(), inputTokens: countTextTokens(prompt) }),
          units: (json) => (Array.isArray(json.data) ? Math.max(1, json.data.length) : 1),
        }),
    });
  }

  async audioTranscriptions(request: FastifyRequest, reply: FastifyReply): Promise<void> {
    const caller = await this.relay.authenticate('openai', request);
    const { parts, boundary } = multipartBody(request);
    const format = multipartField(parts, 'response_format') ?? 'json';
    await this.relay.relayEndpoint(caller, request, reply, {
      surface: 'openai',
      canonical: canonicalOf(requireMultipartModel(parts), [multipartField(parts, 'prompt') ?? ''], false),
      body: {},
      wires: openAiWires,
      attempt: (ex, channel) =>
        this.attempt(ex, channel, {
          path: '/audio/transcriptions',
          // text, srt and vtt answers are plain text: relayed as bytes, counted from the text.
          answer: format === 'json' || format === 'verbose_json' ? 'json' : 'binary',
          multipart: { parts, boundary },
          usage: (json) => inputOutputUsage(json.usage),
          estimate: (json) => ({
            ...emptyUsage(),
            outputTokens: Math.max(1, countTextTokens(textOf(json.text))),
          }),
        }),
    });
  }

  async audioSpeech(request: FastifyRequest, reply: FastifyReply): Promise<void> {
    const caller = await this.relay.authenticate('openai', request);
    const body = jsonBody(request.body);
    const input = textOf(body.input);
    await this.relay.relayEndpoint(caller, request, reply, {
      surface: 'openai',
      canonical: canonicalOf(requireModel(body), [input], false),
      body,
      wires: openAiWires,
      maxOutputTokens: 0,
      attempt: (ex, channel) =>
        this.attempt(ex, channel, {
          path: '/audio/speech',
          answer: 'binary',
          estimate: () => ({ ...emptyUsage(), inputTokens: Math.max(1, countTextTokens(input)) }),
        }),
    });
  }

  async rerank(request: FastifyRequest, reply: FastifyReply): Promise<void> {
    const caller = await this.relay.authenticate('openai', request);
    const body = jsonBody(request.body);
    const texts = [textOf(body.query), textOf(body.documents)];
    await this.relay.relayEndpoint(caller, request, reply, {
      surface: 'openai',
      canonical: canonicalOf(requireModel(body), texts, false),
      body,
      wires: openAiWires,
      maxOutputTokens: 0,
      attempt: (ex, channel) =>
        this.attempt(ex, channel, {
          path: '/rerank',
          answer: 'json',
          usage: (json) => rerankUsage(json),
          estimate: () => ({ ...emptyUsage(), inputTokens: countTextTokens(texts.join('\n')) }),
        }),
    });
  }

  /** One attempt of a pass-through endpoint on one OpenAI-format channel. */
  private async attempt(ex: Exchange, channel: RuntimeChannel, spec: EndpointSpec): Promise<AttemptResult> {
    const record = this.attempts.record(ex, channel);
    if (channel.problem) return this.attempts.misconfigured(channel, record);
    const model = upstreamModelFor(ex, channel);
    const up: UpstreamRequest = { path: spec.path, body: { ...ex.body, model } };
    if (spec.multipart) {
      const { parts, boundary } = spec.multipart;
      up.rawBody = {
        data: buildMultipart(withMultipartField(parts, 'model', model), boundary),
        contentType: `multipart/form-data; boundary=${boundary}`,
      };
    } else if (spec.path === '/responses' && channel.spec.legacyMaxTokens) {
      useLegacyMaxTokens(up.body);
    }
    const sent = await this.attempts.send(ex, channel, record, up, {
      decodeError: (status, text) => wireAdapters.openai.decodeUpstreamError(status, text),
    });
    if (sent.kind !== 'response') return sent;
    const { res, started } = sent;

    if (spec.answer === 'sse') return this.relayResponsesStream(ex, channel, res, started);
    if (spec.answer === 'binary') {
      const contentType = String(res.headers['content-type'] ?? 'application/octet-stream');
      const writer = new StreamWriter(ex, contentType, started);
      const text: Buffer[] = [];
      const keepText =
        !contentType.startsWith('audio/') && !contentType.startsWith('application/octet-stream');
      try {
        for await (const chunk of res.chunks()) {
          if (keepText) text.push(chunk);
          await writer.write(chunk);
        }
      } catch (e) {
        if (!(e instanceof UpstreamFailure)) throw e;
        if (!ex.committed) return this.attempts.failed(ex, channel, record, e);
        writer.destroy();
        if (e.kind === 'cancelled') ex.cancelled();
        else ex.status = 'error';
        return answered;
      }
      const estimate = spec.estimate?.({ text: Buffer.concat(text).toString('utf8') });
      if (estimate) ex.meter.setEstimatedUsage(estimate);
      this.attempts.succeeded(ex, channel, record, res.status, performance.now() - started);
      if (!ex.committed) await writer.write(Buffer.alloc(0));
      ex.status = 'success';
      ex.httpStatus = 200;
      writer.end();
      return answered;
    }

    let json: unknown;
    try {
      json = JSON.parse(await res.text());
    } catch (e) {
      ex.upstreamMs += performance.now() - started;
      if (e instanceof SyntaxError)
        return this.attempts.unreadable(
          channel,
          record,
          res.status,
          'the upstream answered with an unreadable body',
        );
      return this.attempts.failed(ex, channel, record, e);
    }
    const latency = performance.now() - started;
    ex.upstreamMs += latency;
    if (!isObject(json))
      return this.attempts.unreadable(
        channel,
        record,
        res.status,
        'the upstream answer is not a JSON object',
      );
    const usage = spec.usage?.(json);
    if (usage) ex.meter.setUpstreamUsage(usage);
    else {
      const estimate = spec.estimate?.(json);
      if (estimate) ex.meter.setEstimatedUsage(estimate);
    }
    if (spec.units) ex.perRequestUnits = spec.units(json);
    if (isObject(json.usage)) json.usage.cost = ex.costUsd();
    this.attempts.succeeded(ex, channel, record, res.status, latency);
    ex.sendJson(200, json);
    return answered;
  }

  /**
   * Responses API streams are relayed event by event, untouched except `response.completed` (and the
   * other terminal events), whose `response.usage` gets the cost. Text deltas are counted in case the
   * stream is cut before its usage arrives.
   */
  private async relayResponsesStream(
    ex: Exchange,
    channel: RuntimeChannel,
    res: UpstreamHttpResponse,
    started: number,
  ): Promise<AttemptResult> {
    const record = ex.attempts.at(-1)!;
    record.httpStatus = res.status;
    const splitter = new RawSseSplitter();
    const decoder = new TextDecoder();
    const writer = new StreamWriter(ex, SSE_CONTENT_TYPE, started);
    let terminal: string | undefined;
    let errorType: string | undefined;
    const relayEvents = (text: string, final: boolean): string => {
      let out = '';
      for (const raw of final ? [...splitter.push(text), ...splitter.end()] : splitter.push(text)) {
        let data: Json | undefined;
        try {
          const parsed: unknown = raw.data ? JSON.parse(raw.data) : undefined;
          data = isObject(parsed) ? parsed : undefined;
        } catch {
          data = undefined;
        }
        const type = (data && typeof data.type === 'string' ? data.type : raw.event) || '';
        if (type === 'response.output_text.delta' && typeof data?.delta === 'string') {
          ex.meter.observe({ type: 'text-delta', text: data.delta });
        } else if (type === 'error') {
          errorType = typeof data?.code === 'string' ? data.code : 'upstream_error';
        }
        if (
          (type === 'response.completed' || type === 'response.incomplete' || type === 'response.failed') &&
          data
        ) {
          terminal = type;
          const response = isObject(data.response) ? data.response : undefined;
          const usage = responsesUsage(response?.usage);
          if (usage) {
            ex.meter.setUpstreamUsage(usage);
            if (isObject(response!.usage)) response!.usage.cost = ex.costUsd();
            out += formatSse(JSON.stringify(data), raw.event || undefined);
            continue;
          }
        }
        out += raw.text;
      }
      return out;
    };
    try {
      for await (const chunk of res.chunks()) {
        const out = relayEvents(decoder.decode(chunk, { stream: true }), false);
        if (errorType && !ex.committed) break;
        if (out) await writer.write(out);
      }
      if (!errorType) {
        const out = relayEvents(decoder.decode(), true);
        if (out) await writer.write(out);
      }
    } catch (e) {
      if (!(e instanceof UpstreamFailure)) throw e;
      if (e.kind === 'cancelled' || ex.clientGone) {
        record.outcome = 'cancelled';
        writer.destroy();
        ex.cancelled();
        return answered;
      }
      if (!ex.committed) return this.attempts.failed(ex, channel, record, e);
      errorType = e.kind === 'timeout' ? 'upstream_timeout' : 'upstream_stream_incomplete';
    } finally {
      res.close();
    }
    if (!ex.committed) {
      const message = errorType
        ? `the upstream stream failed (${errorType})`
        : 'the upstream stream was empty';
      record.outcome = 'upstream_error';
      this.attempts.health.recordFailure(channel.id, { type: errorType ?? 'empty_stream', message });
      return { kind: 'retry', failure: { kind: 'failed', message } };
    }
    ex.channel = channel;
    ex.httpStatus = 200;
    if (!terminal) {
      // Cut after the first byte: the Responses API's own error event ends the stream.
      errorType ??= 'upstream_stream_incomplete';
      await writer.write(
        formatSse(
          JSON.stringify({
            type: 'error',
            code: errorType,
            message: 'the upstream closed the stream before the response finished',
            param: null,
          }),
          'error',
        ),
      );
      record.outcome = 'stream_cut';
      this.attempts.health.recordFailure(channel.id, { type: errorType, message: 'stream cut' });
      ex.status = 'error';
      ex.errorCode = errorType;
    } else {
      this.attempts.succeeded(ex, channel, record, res.status, performance.now() - started);
      ex.status = terminal === 'response.failed' ? 'error' : 'success';
      if (ex.status === 'error') ex.errorCode = 'response_failed';
    }
    writer.end();
    return answered;
  }
}

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function jsonBody(body: unknown): Json {
  if (!isObject(body)) throw new InvalidRequestError('the body must be a JSON object', 'body');
  return body;
}

function requireModel(body: Json): string {
  if (typeof body.model !== 'string' || !body.model)
    throw new InvalidRequestError('`model` is required', 'model');
  return body.model;
}

function multipartBody(request: FastifyRequest): { parts: MultipartPart[]; boundary: string } {
  const boundary = multipartBoundary(request.headers['content-type']);
  if (!Buffer.isBuffer(request.body)) throw new InvalidRequestError('expected a multipart/form-data body');
  return { parts: parseMultipart(request.body, boundary), boundary };
}

function requireMultipartModel(parts: MultipartPart[]): string {
  const model = multipartField(parts, 'model');
  if (!model) throw new InvalidRequestError('`model` is required', 'model');
  return model;
}

/** The text of any JSON value (strings, arrays of strings, message-like objects), for token estimates. */
function textOf(value: unknown): string {
  if (typeof value === 'string') return value;
  if (Array.isArray(value)) return value.map(textOf).filter(Boolean).join('\n');
  if (isObject(value)) {
    return ['text', 'content', 'input', 'output']
      .map((k) => textOf(value[k]))
      .filter(Boolean)
      .join('\n');
  }
  return '';
}

/** A canonical view of a non-chat request, for admission's estimates and local token counts. */
function canonicalOf(model: string, texts: string[], stream: boolean): CanonicalRequest {
  const text = texts.filter(Boolean).join('\n');
  return { model, messages: [{ role: 'user', content: [{ type: 'text', text }] }], stream };
}

/** `usage` of embeddings (and OpenAI-style rerankers): prompt tokens only. */
function promptUsage(usage: unknown): CanonicalUsage | undefined {
  if (!isObject(usage)) return undefined;
  const input = usage.prompt_tokens ?? usage.total_tokens ?? usage.input_tokens;
  return typeof input === 'number' ? { ...emptyUsage(), inputTokens: input } : undefined;
}

/** Responses API usage: input includes cached tokens, output includes reasoning tokens. */
export function responsesUsage(usage: unknown): CanonicalUsage | undefined {
  if (!isObject(usage) || typeof usage.input_tokens !== 'number') return undefined;
  const details = isObject(usage.input_tokens_details) ? usage.input_tokens_details : {};
  const outDetails = isObject(usage.output_tokens_details) ? usage.output_tokens_details : {};
  const cached = typeof details.cached_tokens === 'number' ? details.cached_tokens : 0;
  return {
    ...emptyUsage(),
    inputTokens: Math.max(0, usage.input_tokens - cached),
    cacheReadTokens: cached,
    outputTokens: typeof usage.output_tokens === 'number' ? usage.output_tokens : 0,
    reasoningTokens: typeof outDetails.reasoning_tokens === 'number' ? outDetails.reasoning_tokens : 0,
  };
}

/**
 * `{input_tokens, output_tokens}` usage: gpt-image-1 and token-billed transcription report it; DALL·E
 * (billed per image) and `{type: "duration"}` transcription usage have no tokens.
 */
function inputOutputUsage(usage: unknown): CanonicalUsage | undefined {
  if (!isObject(usage) || typeof usage.input_tokens !== 'number') return undefined;
  return {
    ...emptyUsage(),
    inputTokens: usage.input_tokens,
    outputTokens: typeof usage.output_tokens === 'number' ? usage.output_tokens : 0,
  };
}

/** Rerankers report `usage.total_tokens` (Jina, OpenAI-style) or Cohere's `meta.billed_units`. */
function rerankUsage(json: Json): CanonicalUsage | undefined {
  const fromUsage = promptUsage(json.usage);
  if (fromUsage) return fromUsage;
  const meta = isObject(json.meta) ? json.meta : {};
  const billed = isObject(meta.billed_units) ? meta.billed_units : {};
  if (typeof billed.input_tokens === 'number') return { ...emptyUsage(), inputTokens: billed.input_tokens };
  return undefined;
}
