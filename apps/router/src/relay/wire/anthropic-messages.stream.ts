// Anthropic Messages streams: message_start, content_block_start/delta/stop, message_delta, message_stop
// (with ping and error in between). The encoder writes them for Anthropic clients, the decoder reads them
// from Anthropic channels, and the sniffer reads only usage when the stream is relayed as is.

import { randomUUID } from 'node:crypto';

import type { CanonicalRequest, CanonicalStreamEvent, CanonicalUsage, StopReason } from '../canonical';
import { formatSse, SSE_CONTENT_TYPE, SseParser } from '../sse';
import {
  anthropicErrorStatus,
  anthropicStopToStopReason,
  anthropicUsageToCanonical,
  canonicalToAnthropicUsage,
  encodeAnthropicError,
  stopReasonToAnthropic,
} from './anthropic-messages.response';
import { isObject, type Json, str } from './fields';
import { JsonSseStreamDecoder } from './json-sse-decoder';
import type {
  GatewayError,
  StreamEncoder,
  StreamEncoderOptions,
  StreamEndOptions,
  StreamUsageSniffer,
} from './wire-adapter';

function sse(type: string, payload: Json): string {
  return formatSse(JSON.stringify({ type, ...payload }), type);
}

type BlockKind = 'text' | 'thinking' | 'tool';

export class AnthropicStreamEncoder implements StreamEncoder {
  readonly contentType = SSE_CONTENT_TYPE;
  private id: string | undefined;
  private model: string | undefined;
  private started = false;
  private closed = false;
  private usage: CanonicalUsage | undefined;
  private stopReason: StopReason | undefined;
  /** Index and kind of the content block currently open; Anthropic streams one block at a time. */
  private block: { index: number; kind: BlockKind } | undefined;
  private nextBlock = 0;
  private readonly toolBlocks = new Map<number, number>();

  constructor(
    private readonly req: CanonicalRequest,
    opts: StreamEncoderOptions = {},
  ) {
    this.id = opts.id;
    this.model = opts.model;
  }

  encode(event: CanonicalStreamEvent): string {
    if (this.closed) return '';
    switch (event.type) {
      case 'start':
        this.id ??= event.id || undefined;
        this.model ??= event.model || undefined;
        return ''; // message_start waits for the first content, so it can carry the input usage
      case 'text-delta':
        return this.begin() + this.open('text') + this.delta({ type: 'text_delta', text: event.text });
      case 'reasoning-delta':
        return (
          this.begin() + this.open('thinking') + this.delta({ type: 'thinking_delta', thinking: event.text })
        );
      case 'tool-call-start': {
        const out = this.begin() + this.close();
        const index = this.nextBlock++;
        this.block = { index, kind: 'tool' };
        this.toolBlocks.set(event.index, index);
        return (
          out +
          sse('content_block_start', {
            index,
            content_block: { type: 'tool_use', id: event.id, name: event.name, input: {} },
          })
        );
      }
      case 'tool-call-delta': {
        const index = this.toolBlocks.get(event.index);
        if (index === undefined || !event.argumentsDelta) return '';
        return sse('content_block_delta', {
          index,
          delta: { type: 'input_json_delta', partial_json: event.argumentsDelta },
        });
      }
      case 'usage':
        this.usage = event.usage;
        return '';
      case 'finish':
        this.stopReason = event.stopReason;
        return this.begin() + this.close();
      case 'error':
        return this.error({ status: event.status ?? 502, code: event.errorType, message: event.message });
    }
  }

  end(opts: StreamEndOptions = {}): string {
    if (this.closed) return '';
    const out = this.begin() + this.close();
    this.closed = true;
    const usage = opts.usage ?? this.usage;
    return (
      out +
      sse('message_delta', {
        delta: { stop_reason: stopReasonToAnthropic(this.stopReason ?? 'end_turn'), stop_sequence: null },
        // Cumulative, as Anthropic's message_delta usage is: it replaces what message_start announced.
        usage: usage ? canonicalToAnthropicUsage(usage, opts.costUsd) : { output_tokens: 0 },
      }) +
      sse('message_stop', {})
    );
  }

  error(err: GatewayError): string {
    if (this.closed) return '';
    this.closed = true;
    return formatSse(JSON.stringify(encodeAnthropicError(err)), 'error');
  }

  private begin(): string {
    if (this.started) return '';
    this.started = true;
    const usage = this.usage
      ? canonicalToAnthropicUsage(this.usage)
      : { input_tokens: 0, output_tokens: 0, cache_creation_input_tokens: 0, cache_read_input_tokens: 0 };
    const message = {
      id: (this.id ??= `msg_${randomUUID().replace(/-/g, '')}`),
      type: 'message',
      role: 'assistant',
      model: this.model ?? this.req.model,
      content: [],
      stop_reason: null,
      stop_sequence: null,
      usage,
    };
    return sse('message_start', { message }) + sse('ping', {});
  }

  private open(kind: 'text' | 'thinking'): string {
    if (this.block?.kind === kind) return '';
    const out = this.close();
    const index = this.nextBlock++;
    this.block = { index, kind };
    const contentBlock =
      kind === 'text' ? { type: 'text', text: '' } : { type: 'thinking', thinking: '', signature: '' };
    return out + sse('content_block_start', { index, content_block: contentBlock });
  }

  private delta(delta: Json): string {
    return sse('content_block_delta', { index: this.block?.index ?? 0, delta });
  }

  private close(): string {
    if (!this.block) return '';
    const { index } = this.block;
    this.block = undefined;
    return sse('content_block_stop', { index });
  }
}

export class AnthropicStreamDecoder extends JsonSseStreamDecoder {
  /** Usage fields as last reported: message_start has the input side, message_delta the cumulative rest. */
  private readonly usage: Json = {};
  private readonly blocks = new Map<number, { kind: BlockKind | 'other'; toolIndex: number }>();
  private toolCount = 0;

  protected handle(event: Json, out: CanonicalStreamEvent[]): void {
    switch (event.type) {
      case 'message_start': {
        const message = isObject(event.message) ? event.message : {};
        out.push({ type: 'start', id: str(message.id) ?? '', model: str(message.model) ?? '' });
        this.mergeUsage(message.usage, out);
        return;
      }
      case 'content_block_start':
        return this.blockStart(event, out);
      case 'content_block_delta':
        return this.blockDelta(event, out);
      case 'message_delta': {
        this.mergeUsage(event.usage, out);
        const delta = isObject(event.delta) ? event.delta : {};
        if (delta.stop_reason && !this.finished) {
          this.finished = true;
          out.push({ type: 'finish', stopReason: anthropicStopToStopReason(delta.stop_reason) });
        }
        return;
      }
      case 'message_stop':
        if (!this.finished) out.push({ type: 'finish', stopReason: 'end_turn' });
        this.finished = true;
        return;
      case 'error': {
        this.failed = true;
        const error = isObject(event.error) ? event.error : {};
        const errorType = str(error.type) ?? 'api_error';
        out.push({
          type: 'error',
          status: anthropicErrorStatus(errorType),
          errorType,
          message: str(error.message) ?? 'upstream stream error',
        });
        return;
      }
      default:
        return; // ping, content_block_stop and future events carry nothing to translate
    }
  }

  private blockStart(event: Json, out: CanonicalStreamEvent[]): void {
    const index = typeof event.index === 'number' ? event.index : this.blocks.size;
    const block = isObject(event.content_block) ? event.content_block : {};
    if (block.type === 'text') {
      this.blocks.set(index, { kind: 'text', toolIndex: -1 });
      if (str(block.text)) out.push({ type: 'text-delta', text: str(block.text) ?? '' });
    } else if (block.type === 'thinking') {
      this.blocks.set(index, { kind: 'thinking', toolIndex: -1 });
      if (str(block.thinking)) out.push({ type: 'reasoning-delta', text: str(block.thinking) ?? '' });
    } else if (block.type === 'tool_use') {
      const toolIndex = this.toolCount++;
      this.blocks.set(index, { kind: 'tool', toolIndex });
      out.push({
        type: 'tool-call-start',
        index: toolIndex,
        id: str(block.id) ?? '',
        name: str(block.name) ?? '',
      });
      // A block may start with its input already filled in instead of streaming it.
      if (isObject(block.input) && Object.keys(block.input).length > 0) {
        out.push({ type: 'tool-call-delta', index: toolIndex, argumentsDelta: JSON.stringify(block.input) });
      }
    } else {
      this.blocks.set(index, { kind: 'other', toolIndex: -1 }); // server tools, redacted thinking
    }
  }

  private blockDelta(event: Json, out: CanonicalStreamEvent[]): void {
    const block = typeof event.index === 'number' ? this.blocks.get(event.index) : undefined;
    const delta = isObject(event.delta) ? event.delta : {};
    if (delta.type === 'text_delta' && str(delta.text)) {
      out.push({ type: 'text-delta', text: str(delta.text) ?? '' });
    } else if (delta.type === 'thinking_delta' && str(delta.thinking)) {
      out.push({ type: 'reasoning-delta', text: str(delta.thinking) ?? '' });
    } else if (delta.type === 'input_json_delta' && block?.kind === 'tool' && str(delta.partial_json)) {
      out.push({
        type: 'tool-call-delta',
        index: block.toolIndex,
        argumentsDelta: str(delta.partial_json) ?? '',
      });
    }
    // signature_delta and citations_delta have no canonical counterpart.
  }

  private mergeUsage(usage: unknown, out: CanonicalStreamEvent[]): void {
    if (!isObject(usage)) return;
    for (const [key, value] of Object.entries(usage))
      if (value !== null && value !== undefined) this.usage[key] = value;
    const canonical = anthropicUsageToCanonical(this.usage);
    if (canonical) out.push({ type: 'usage', usage: canonical });
  }
}

const EVENT_TYPE = /"type"\s*:\s*"([a-z_]+)"/;

export class AnthropicUsageSniffer implements StreamUsageSniffer {
  private readonly sse = new SseParser();
  private startData: string | undefined;
  private lastDeltaData: string | undefined;
  private completed = false;

  push(chunk: string): void {
    for (const event of this.sse.push(chunk)) this.see(event.event, event.data);
  }

  result(): { usage?: CanonicalUsage; completed: boolean } {
    for (const event of this.sse.end()) this.see(event.event, event.data);
    const merged: Json = {};
    for (const data of [this.startData, this.lastDeltaData]) {
      const usage = data ? usageOf(data) : undefined;
      if (usage)
        for (const [key, value] of Object.entries(usage))
          if (value !== null && value !== undefined) merged[key] = value;
    }
    const usage = Object.keys(merged).length > 0 ? anthropicUsageToCanonical(merged) : undefined;
    return usage ? { usage, completed: this.completed } : { completed: this.completed };
  }

  private see(name: string, data: string): void {
    // The event line names the type; a proxy that drops it still leaves `"type"` first in the data.
    const type = name !== 'message' ? name : EVENT_TYPE.exec(data)?.[1];
    if (type === 'message_start') this.startData = data;
    else if (type === 'message_delta') this.lastDeltaData = data;
    else if (type === 'message_stop') this.completed = true;
  }
}

function usageOf(data: string): Json | undefined {
  try {
    const event: unknown = JSON.parse(data);
    if (!isObject(event)) return undefined;
    const holder = event.type === 'message_start' && isObject(event.message) ? event.message : event;
    return isObject(holder.usage) ? holder.usage : undefined;
  } catch {
    return undefined;
  }
}
