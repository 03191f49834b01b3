// OpenAI `chat.completion.chunk` streams: the encoder writes them for OpenAI clients, the decoder reads
// them from OpenAI-format channels, and the sniffer reads only usage when the stream is relayed as is.

import { randomUUID } from 'node:crypto';

import type { CanonicalRequest, CanonicalStreamEvent, CanonicalUsage } from '../canonical';
import { formatSse, SSE_CONTENT_TYPE } from '../sse';
import { isObject, type Json, str } from './fields';
import {
  canonicalToOpenAiUsage,
  encodeOpenAiError,
  openAiFinishToStopReason,
  openAiUsageToCanonical,
  stopReasonToOpenAiFinish,
} from './openai-chat.response';
import { JsonSseStreamDecoder } from './json-sse-decoder';
import { LastUsageSniffer } from './last-usage-sniffer';
import type { GatewayError, StreamEncoder, StreamEncoderOptions, StreamEndOptions } from './wire-adapter';

const DONE = 'data: [DONE]\n\n';

export class OpenAiStreamEncoder implements StreamEncoder {
  readonly contentType = SSE_CONTENT_TYPE;
  private id: string | undefined;
  private model: string | undefined;
  private readonly created: number;
  private started = false;
  private finished = false;
  private closed = false;
  private usage: CanonicalUsage | undefined;

  constructor(
    private readonly req: CanonicalRequest,
    opts: StreamEncoderOptions = {},
  ) {
    this.id = opts.id;
    this.model = opts.model;
    this.created = opts.created ?? Math.floor(Date.now() / 1000);
  }

  encode(event: CanonicalStreamEvent): string {
    if (this.closed) return '';
    switch (event.type) {
      case 'start':
        this.id ??= event.id || undefined;
        this.model ??= event.model || undefined;
        return this.begin();
      case 'text-delta':
        return this.begin() + this.chunk({ content: event.text });
      case 'reasoning-delta':
        return this.begin() + this.chunk({ reasoning_content: event.text });
      case 'tool-call-start':
        return (
          this.begin() +
          this.chunk({
            tool_calls: [
              {
                index: event.index,
                id: event.id,
                type: 'function',
                function: { name: event.name, arguments: '' },
              },
            ],
          })
        );
      case 'tool-call-delta':
        return (
          this.begin() +
          this.chunk({ tool_calls: [{ index: event.index, function: { arguments: event.argumentsDelta } }] })
        );
      case 'usage':
        this.usage = event.usage;
        return '';
      case 'finish':
        if (this.finished) return '';
        this.finished = true;
        return this.begin() + this.chunk({}, stopReasonToOpenAiFinish(event.stopReason));
      case 'error':
        return this.error({
          status: event.status ?? 502,
          code: event.errorType,
          message: event.message,
          upstreamType: event.errorType,
        });
    }
  }

  end(opts: StreamEndOptions = {}): string {
    if (this.closed) return '';
    let out = this.begin();
    if (!this.finished) out += this.chunk({}, 'stop');
    this.closed = true;
    const usage = opts.usage ?? this.usage;
    // As OpenAI does: the usage chunk has no choices and comes right before [DONE], only if asked for.
    if (this.req.streamUsage && usage) {
      out += formatSse(
        JSON.stringify({ ...this.head(), choices: [], usage: canonicalToOpenAiUsage(usage, opts.costUsd) }),
      );
    }
    return out + DONE;
  }

  error(err: GatewayError): string {
    if (this.closed) return '';
    this.closed = true;
    // OpenAI reports a mid-stream failure as a data event holding the usual error envelope.
    return formatSse(JSON.stringify(encodeOpenAiError(err)));
  }

  /** The first chunk carries the role, as OpenAI's does. */
  private begin(): string {
    if (this.started) return '';
    this.started = true;
    return this.chunk({ role: 'assistant', content: '' });
  }

  private head(): Json {
    this.id ??= `chatcmpl-${randomUUID().replace(/-/g, '')}`;
    return {
      id: this.id,
      object: 'chat.completion.chunk',
      created: this.created,
      model: this.model ?? this.req.model,
    };
  }

  private chunk(delta: Json, finishReason: string | null = null): string {
    return formatSse(
      JSON.stringify({
        ...this.head(),
        choices: [{ index: 0, delta, logprobs: null, finish_reason: finishReason }],
      }),
    );
  }
}

export class OpenAiStreamDecoder extends JsonSseStreamDecoder {
  private started = false;
  private readonly toolCalls = new Set<number>();

  protected override handleRaw(data: string): boolean {
    if (data !== '[DONE]') return false;
    this.finished = true;
    return true;
  }

  protected handle(chunk: Json, out: CanonicalStreamEvent[]): void {
    if (isObject(chunk.error)) {
      this.failed = true;
      out.push({
        type: 'error',
        errorType: str(chunk.error.type) ?? str(chunk.error.code) ?? 'api_error',
        message: str(chunk.error.message) ?? 'upstream stream error',
      });
      return;
    }
    if (!this.started) {
      this.started = true;
      out.push({ type: 'start', id: str(chunk.id) ?? '', model: str(chunk.model) ?? '' });
    }
    const choice = Array.isArray(chunk.choices) ? chunk.choices[0] : undefined;
    if (isObject(choice)) this.readChoice(choice, out);
    const usage = openAiUsageToCanonical(chunk.usage);
    if (usage) out.push({ type: 'usage', usage });
  }

  private readChoice(choice: Json, out: CanonicalStreamEvent[]): void {
    const delta = isObject(choice.delta) ? choice.delta : {};
    const reasoning = str(delta.reasoning_content) ?? str(delta.reasoning);
    if (reasoning) out.push({ type: 'reasoning-delta', text: reasoning });
    const text = str(delta.content);
    if (text) out.push({ type: 'text-delta', text });
    if (Array.isArray(delta.tool_calls)) {
      delta.tool_calls.forEach((call, i) => {
        if (!isObject(call)) return;
        const index = typeof call.index === 'number' ? call.index : i;
        const fn = isObject(call.function) ? call.function : {};
        if (!this.toolCalls.has(index)) {
          this.toolCalls.add(index);
          out.push({
            type: 'tool-call-start',
            index,
            id: str(call.id) ?? `call_${index}`,
            name: str(fn.name) ?? '',
          });
        }
        const args = str(fn.arguments);
        if (args) out.push({ type: 'tool-call-delta', index, argumentsDelta: args });
      });
    }
    if (choice.finish_reason !== null && choice.finish_reason !== undefined && !this.finished) {
      this.finished = true;
      out.push({
        type: 'finish',
        stopReason: openAiFinishToStopReason(choice.finish_reason, this.toolCalls.size > 0),
      });
    }
  }
}

const USAGE_OBJECT = /"usage"\s*:\s*\{/;
const FINISH_REASON = /"finish_reason"\s*:\s*"/;

export class OpenAiUsageSniffer extends LastUsageSniffer {
  constructor() {
    super({
      // Every chunk has `"usage":null` when include_usage is on; only an object is worth keeping.
      holdsUsage: (data) => data.includes('"usage"') && USAGE_OBJECT.test(data),
      completes: (data) => data === '[DONE]' || FINISH_REASON.test(data),
      usageOf: (chunk) => openAiUsageToCanonical(chunk.usage),
    });
  }
}
