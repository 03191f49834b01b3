// Gemini `streamGenerateContent?alt=sse` streams: every event is a whole GenerateContentResponse holding
// the next parts, with cumulative usageMetadata and, at the end, a finishReason. The encoder writes them
// for Gemini clients, the decoder reads them from Gemini channels, and the sniffer reads only usage.

import { randomUUID } from 'node:crypto';

import type { CanonicalRequest, CanonicalStreamEvent, CanonicalUsage, StopReason } from '../canonical';
import { formatSse, SSE_CONTENT_TYPE } from '../sse';
import { isObject, type Json, parseArgumentsObject, str } from './fields';
import {
  canonicalToGeminiUsage,
  encodeGeminiError,
  geminiFinishToStopReason,
  geminiPartsToCanonical,
  geminiStatusName,
  geminiStatusToHttp,
  geminiUsageToCanonical,
  stopReasonToGeminiFinish,
  toolCallIdPrefix,
} from './gemini.response';
import { JsonSseStreamDecoder } from './json-sse-decoder';
import { LastUsageSniffer } from './last-usage-sniffer';
import type { GatewayError, StreamEncoder, StreamEncoderOptions, StreamEndOptions } from './wire-adapter';

export class GeminiStreamEncoder implements StreamEncoder {
  readonly contentType = SSE_CONTENT_TYPE;
  private id: string | undefined;
  private model: string | undefined;
  private closed = false;
  private usage: CanonicalUsage | undefined;
  private stopReason: StopReason | undefined;
  /** Gemini sends a function call whole, so streamed arguments are collected until the call is complete. */
  private readonly calls = new Map<number, { id: string; name: string; args: string }>();

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
        return '';
      case 'text-delta':
        return this.flushCalls() + this.chunk([{ text: event.text }]);
      case 'reasoning-delta':
        return this.flushCalls() + this.chunk([{ text: event.text, thought: true }]);
      case 'tool-call-start':
        this.calls.set(event.index, { id: event.id, name: event.name, args: '' });
        return '';
      case 'tool-call-delta': {
        const call = this.calls.get(event.index);
        if (call) call.args += event.argumentsDelta;
        return '';
      }
      case 'usage':
        this.usage = event.usage;
        return '';
      case 'finish':
        this.stopReason = event.stopReason;
        return '';
      case 'error':
        return this.error({ status: event.status ?? 502, code: event.errorType, message: event.message });
    }
  }

  /** The last chunk carries the pending function calls, the finish reason and the final usage. */
  end(opts: StreamEndOptions = {}): string {
    if (this.closed) return '';
    this.closed = true;
    const usage = opts.usage ?? this.usage;
    const parts = this.takeCalls();
    return this.chunk(parts.length > 0 ? parts : [{ text: '' }], {
      finishReason: stopReasonToGeminiFinish(this.stopReason ?? 'end_turn'),
      usage: usage ? canonicalToGeminiUsage(usage, opts.costUsd) : undefined,
    });
  }

  error(err: GatewayError): string {
    if (this.closed) return '';
    this.closed = true;
    return formatSse(JSON.stringify(encodeGeminiError(err)));
  }

  private flushCalls(): string {
    const parts = this.takeCalls();
    return parts.length > 0 ? this.chunk(parts) : '';
  }

  private takeCalls(): Json[] {
    const parts = [...this.calls.values()].map((call) => ({
      functionCall: { id: call.id, name: call.name, args: parseArgumentsObject(call.args) },
    }));
    this.calls.clear();
    return parts;
  }

  private chunk(parts: Json[], last?: { finishReason: string; usage: Json | undefined }): string {
    const candidate: Json = { content: { role: 'model', parts }, index: 0 };
    if (last) candidate.finishReason = last.finishReason;
    const body: Json = { candidates: [candidate] };
    if (last?.usage) body.usageMetadata = last.usage;
    body.modelVersion = this.model ?? this.req.model;
    body.responseId = this.id ??= randomUUID().replace(/-/g, '');
    return formatSse(JSON.stringify(body));
  }
}

export class GeminiStreamDecoder extends JsonSseStreamDecoder {
  private started = false;
  private toolCalls = 0;

  protected handle(chunk: Json, out: CanonicalStreamEvent[], data: string): void {
    if (isObject(chunk.error)) {
      this.failed = true;
      const status =
        str(chunk.error.status) ??
        geminiStatusName(typeof chunk.error.code === 'number' ? chunk.error.code : 500);
      out.push({
        type: 'error',
        status: geminiStatusToHttp(status),
        errorType: status,
        message: str(chunk.error.message) ?? 'upstream stream error',
      });
      return;
    }
    const responseId = str(chunk.responseId);
    if (!this.started) {
      this.started = true;
      out.push({ type: 'start', id: responseId ?? '', model: str(chunk.modelVersion) ?? '' });
    }
    const candidate = Array.isArray(chunk.candidates) ? chunk.candidates[0] : undefined;
    if (isObject(candidate)) {
      const content = isObject(candidate.content) ? candidate.content.parts : undefined;
      const prefix = toolCallIdPrefix(responseId, data);
      for (const part of geminiPartsToCanonical(content, prefix, this.toolCalls)) {
        if (part.type === 'text') out.push({ type: 'text-delta', text: part.text });
        else if (part.type === 'reasoning') out.push({ type: 'reasoning-delta', text: part.text });
        else {
          const index = this.toolCalls++;
          out.push({ type: 'tool-call-start', index, id: part.id, name: part.name });
          out.push({ type: 'tool-call-delta', index, argumentsDelta: part.arguments });
        }
      }
    }
    const usage = geminiUsageToCanonical(chunk.usageMetadata);
    if (usage) out.push({ type: 'usage', usage });
    const blocked = isObject(chunk.promptFeedback) && chunk.promptFeedback.blockReason !== undefined;
    const finishReason = isObject(candidate) ? candidate.finishReason : undefined;
    if ((finishReason || blocked) && !this.finished) {
      this.finished = true;
      out.push({
        type: 'finish',
        stopReason: finishReason
          ? geminiFinishToStopReason(finishReason, this.toolCalls > 0)
          : 'content_filter',
      });
    }
  }
}

const FINISH_REASON = /"finishReason"\s*:\s*"/;

/** usageMetadata is cumulative in every chunk: the last one is the total. */
export class GeminiUsageSniffer extends LastUsageSniffer {
  constructor() {
    super({
      holdsUsage: (data) => data.includes('"usageMetadata"'),
      completes: (data) => FINISH_REASON.test(data),
      usageOf: (chunk) => geminiUsageToCanonical(chunk.usageMetadata),
    });
  }
}
