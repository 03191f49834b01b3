// Amazon Bedrock Runtime's Converse API as an upstream format (never a client surface): `POST
// /model/{modelId}/converse` answers JSON, `/converse-stream` answers an AWS event stream — binary frames
// (prelude with lengths and CRC32s, typed headers, JSON payload), one per event: messageStart,
// contentBlockStart/Delta/Stop, messageStop, metadata (usage), or an exception.

import { EventStreamCodec, type Message } from '@smithy/eventstream-codec';
import { fromUtf8, toUtf8 } from '@smithy/util-utf8';
import { randomUUID } from 'node:crypto';
import type {
  CanonicalMessage,
  CanonicalOutputPart,
  CanonicalPart,
  CanonicalRequest,
  CanonicalResponse,
  CanonicalStreamEvent,
  CanonicalUsage,
  ImagePart,
  StopReason,
} from '../canonical';
import { UnsupportedFeatureError, UpstreamProtocolError } from '../relay.errors';
import type { UpstreamByteStreamDecoder, UpstreamCodec } from '../upstream-codec';
import { isObject, type Json, num, parseArgumentsObject, str } from '../wire/fields';
import { combinedSystem } from '../wire/portability';
import { reasoningBudget } from '../wire/reasoning';
import { fallbackErrorMessage, incompleteStreamError, parseErrorBody } from '../wire/upstream-errors';
import type { UpstreamError, UpstreamRequest } from '../wire/wire-adapter';

const DEFAULT_MAX_TOKENS = 4096;
const IMAGE_FORMATS: Record<string, string> = {
  'image/png': 'png',
  'image/jpeg': 'jpeg',
  'image/jpg': 'jpeg',
  'image/gif': 'gif',
  'image/webp': 'webp',
};

// ——— request ———

export function encodeBedrockRequest(req: CanonicalRequest, upstreamModel: string): UpstreamRequest {
  const body: Json = { messages: encodeMessages(req.messages) };
  let system = combinedSystem(req);
  if (req.responseFormat && req.responseFormat.type !== 'text') {
    // Converse has no JSON mode: the instruction is the documented way to ask for JSON.
    const schema =
      req.responseFormat.type === 'json_schema'
        ? ` matching this JSON Schema: ${JSON.stringify(req.responseFormat.schema)}`
        : '';
    system = [system, `Respond with a single valid JSON object${schema} and nothing else.`]
      .filter(Boolean)
      .join('\n\n');
  }
  if (system) body.system = [{ text: system }];

  const inference: Json = {};
  let maxTokens = req.maxTokens;
  const additional: Json = {};
  if (req.reasoning?.enabled) {
    // Claude on Bedrock takes Anthropic's thinking switch through additionalModelRequestFields.
    const budget = reasoningBudget(req.reasoning);
    maxTokens ??= budget + DEFAULT_MAX_TOKENS;
    additional.thinking = { type: 'enabled', budget_tokens: Math.min(budget, maxTokens - 1) };
  } else {
    if (req.temperature !== undefined) inference.temperature = req.temperature;
    if (req.topP !== undefined) inference.topP = req.topP;
  }
  if (maxTokens !== undefined) inference.maxTokens = maxTokens;
  if (req.stop?.length) inference.stopSequences = req.stop;
  if (Object.keys(inference).length > 0) body.inferenceConfig = inference;
  if (Object.keys(additional).length > 0) body.additionalModelRequestFields = additional;

  const tools = req.tools ?? [];
  for (const tool of tools) {
    if (tool.builtin) {
      throw new UnsupportedFeatureError(
        `tool "${tool.name}" is built into another provider and cannot run on Bedrock channels`,
        'tools',
      );
    }
  }
  if (tools.length > 0) {
    const toolConfig: Json = {
      tools: tools.map((tool) => ({
        toolSpec: {
          name: tool.name,
          ...(tool.description !== undefined ? { description: tool.description } : {}),
          inputSchema: { json: tool.parameters ?? { type: 'object', properties: {} } },
        },
      })),
    };
    const choice = req.toolChoice;
    if (choice === 'required') toolConfig.toolChoice = { any: {} };
    else if (choice === 'auto') toolConfig.toolChoice = { auto: {} };
    else if (typeof choice === 'object') toolConfig.toolChoice = { tool: { name: choice.name } };
    body.toolConfig = toolConfig;
  }
  const action = req.stream ? 'converse-stream' : 'converse';
  return { path: `/model/${encodeURIComponent(upstreamModel)}/${action}`, body };
}

function encodeMessages(messages: CanonicalMessage[]): Json[] {
  const out: Array<{ role: 'user' | 'assistant'; content: Json[] }> = [];
  messages.forEach((message, i) => {
    if (message.role === 'system') return; // folded into `system` by combinedSystem
    const role = message.role === 'assistant' ? 'assistant' : 'user';
    const content = message.content.flatMap((part, j) => encodePart(part, `messages[${i}].content[${j}]`));
    if (content.length === 0) return;
    // Converse wants user and assistant turns to alternate: consecutive turns of one role are merged.
    const previous = out.at(-1);
    if (previous && previous.role === role) previous.content.push(...content);
    else out.push({ role, content });
  });
  return out;
}

function encodePart(part: CanonicalPart, path: string): Json[] {
  switch (part.type) {
    case 'text':
      return part.text ? [{ text: part.text }] : [];
    case 'image':
      return [encodeImage(part, path)];
    case 'tool_call':
      return [
        { toolUse: { toolUseId: part.id, name: part.name, input: parseArgumentsObject(part.arguments) } },
      ];
    case 'tool_result': {
      const content =
        typeof part.content === 'string'
          ? [{ text: part.content }]
          : part.content.flatMap((p, k) => {
              if (p.type === 'text') return [{ text: p.text }];
              if (p.type === 'image') return [encodeImage(p, `${path}.content[${k}]`)];
              throw new UnsupportedFeatureError(
                `\`${path}.content[${k}]\` cannot be sent to Bedrock channels`,
                path,
              );
            });
      return [
        {
          toolResult: {
            toolUseId: part.toolCallId,
            content: content.length ? content : [{ text: '' }],
            status: part.isError ? 'error' : 'success',
          },
        },
      ];
    }
    case 'reasoning':
      return []; // another provider's reasoning (and its signature) means nothing to Bedrock
    case 'opaque':
      throw new UnsupportedFeatureError(
        `\`${path}\` ("${part.kind}") cannot be sent to Bedrock channels`,
        path,
      );
  }
}

function encodeImage(part: ImagePart, path: string): Json {
  if (part.source.kind !== 'base64') {
    throw new UnsupportedFeatureError(
      `\`${path}\`: Bedrock takes images as inline data only; send a data: URL instead of a link`,
      path,
    );
  }
  const format = IMAGE_FORMATS[part.source.mediaType];
  if (!format) {
    throw new UnsupportedFeatureError(`\`${path}\`: Bedrock takes png, jpeg, gif or webp images`, path);
  }
  return { image: { format, source: { bytes: part.source.data } } };
}

// ——— response ———

export function bedrockUsageToCanonical(usage: unknown): CanonicalUsage | undefined {
  if (!isObject(usage)) return undefined;
  // inputTokens excludes cache reads and writes (totalTokens adds them), as Anthropic counts.
  return {
    inputTokens: num(usage.inputTokens),
    outputTokens: num(usage.outputTokens),
    cacheReadTokens: num(usage.cacheReadInputTokens),
    cacheWrite5mTokens: num(usage.cacheWriteInputTokens),
    cacheWrite1hTokens: 0,
    reasoningTokens: 0,
  };
}

export function bedrockStopToStopReason(reason: unknown): StopReason {
  switch (reason) {
    case 'tool_use':
      return 'tool_use';
    case 'max_tokens':
    case 'model_context_window_exceeded':
      return 'max_tokens';
    case 'stop_sequence':
      return 'stop_sequence';
    case 'guardrail_intervened':
    case 'content_filtered':
      return 'content_filter';
    default:
      return 'end_turn';
  }
}

export function decodeBedrockResponse(json: unknown): CanonicalResponse {
  if (!isObject(json) || !isObject(json.output) || !isObject(json.output.message)) {
    throw new UpstreamProtocolError('the Bedrock answer has no output.message');
  }
  const blocks = Array.isArray(json.output.message.content) ? json.output.message.content : [];
  const content: CanonicalOutputPart[] = [];
  for (const block of blocks) {
    if (!isObject(block)) continue;
    if (typeof block.text === 'string') content.push({ type: 'text', text: block.text });
    else if (isObject(block.toolUse)) {
      content.push({
        type: 'tool_call',
        id: str(block.toolUse.toolUseId) ?? `tooluse_${randomUUID()}`,
        name: str(block.toolUse.name) ?? '',
        arguments: JSON.stringify(block.toolUse.input ?? {}),
      });
    } else if (isObject(block.reasoningContent) && isObject(block.reasoningContent.reasoningText)) {
      content.push({ type: 'reasoning', text: str(block.reasoningContent.reasoningText.text) ?? '' });
    }
  }
  const res: CanonicalResponse = {
    id: `msg_bdrk_${randomUUID().replace(/-/g, '')}`,
    model: '',
    content,
    stopReason: bedrockStopToStopReason(json.stopReason),
  };
  const usage = bedrockUsageToCanonical(json.usage);
  if (usage) res.usage = usage;
  return res;
}

/** Bedrock's documented status per exception, for errors that arrive inside a stream. */
const EXCEPTION_STATUS: Record<string, number> = {
  validationException: 400,
  accessDeniedException: 403,
  resourceNotFoundException: 404,
  modelTimeoutException: 408,
  modelErrorException: 424,
  throttlingException: 429,
  serviceQuotaExceededException: 429,
  internalServerException: 500,
  modelStreamErrorException: 500,
  serviceUnavailableException: 503,
  modelNotReadyException: 503,
};

function exceptionForStatus(status: number): string {
  const names = Object.entries(EXCEPTION_STATUS).filter(([, s]) => s === status);
  const name = names[0]?.[0] ?? (status >= 500 ? 'internalServerException' : 'validationException');
  return name.charAt(0).toUpperCase() + name.slice(1);
}

export function decodeBedrockError(status: number, bodyText: string): UpstreamError {
  const body = parseErrorBody(bodyText);
  if (isObject(body)) {
    const type = str(body.__type)?.split('#').pop()?.split(':')[0] ?? exceptionForStatus(status);
    const message = str(body.message) ?? str(body.Message);
    if (message) return { type, message };
  }
  return { type: exceptionForStatus(status), message: fallbackErrorMessage(status, bodyText) };
}

// ——— stream ———

/** Splits the event stream into frames (4-byte big-endian total length first) and decodes each one. */
export class AwsEventStreamReader {
  private readonly codec = new EventStreamCodec(toUtf8, fromUtf8);
  private buffer: Uint8Array = new Uint8Array(0);

  push(chunk: Uint8Array): Message[] {
    this.buffer = this.buffer.length ? concat(this.buffer, chunk) : chunk;
    const out: Message[] = [];
    while (this.buffer.length >= 4) {
      const total = new DataView(this.buffer.buffer, this.buffer.byteOffset, 4).getUint32(0, false);
      if (total < 16) throw new UpstreamProtocolError('malformed event-stream frame');
      if (this.buffer.length < total) break;
      out.push(this.codec.decode(this.buffer.subarray(0, total)));
      this.buffer = this.buffer.subarray(total);
    }
    return out;
  }

  get pendingBytes(): number {
    return this.buffer.length;
  }
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a, 0);
  out.set(b, a.length);
  return out;
}

function header(message: Message, name: string): string | undefined {
  const value = message.headers[name];
  return value && value.type === 'string' ? value.value : undefined;
}

export class BedrockStreamDecoder implements UpstreamByteStreamDecoder {
  private readonly reader = new AwsEventStreamReader();
  private started = false;
  private finished = false;
  private failed = false;
  private readonly tools = new Map<number, number>();

  push(chunk: Uint8Array): CanonicalStreamEvent[] {
    const out: CanonicalStreamEvent[] = [];
    if (this.failed) return out;
    let messages: Message[];
    try {
      messages = this.reader.push(chunk);
    } catch {
      this.failed = true;
      out.push({
        type: 'error',
        status: 502,
        errorType: 'upstream_invalid_response',
        message: 'the upstream sent a malformed event-stream frame',
      });
      return out;
    }
    for (const message of messages) {
      if (this.failed) break;
      this.read(message, out);
    }
    return out;
  }

  end(): CanonicalStreamEvent[] {
    if (this.finished || this.failed) return [];
    return [incompleteStreamError()];
  }

  private read(message: Message, out: CanonicalStreamEvent[]): void {
    const messageType = header(message, ':message-type') ?? 'event';
    let payload: Json = {};
    try {
      const parsed: unknown = message.body.length ? JSON.parse(toUtf8(message.body)) : {};
      if (isObject(parsed)) payload = parsed;
    } catch {
      // an unreadable payload is reported below for exceptions, ignored for events
    }
    if (messageType !== 'event') {
      this.failed = true;
      const type =
        header(message, ':exception-type') ?? header(message, ':error-code') ?? 'internalServerException';
      const key = type.charAt(0).toLowerCase() + type.slice(1);
      out.push({
        type: 'error',
        status: EXCEPTION_STATUS[key] ?? 502,
        errorType: type,
        message:
          str(payload.message) ??
          str(payload.Message) ??
          header(message, ':error-message') ??
          'Bedrock stream error',
      });
      return;
    }
    const eventType = header(message, ':event-type');
    if (!this.started && eventType !== 'metadata') {
      this.started = true;
      out.push({ type: 'start', id: `msg_bdrk_${randomUUID().replace(/-/g, '')}`, model: '' });
    }
    switch (eventType) {
      case 'contentBlockStart': {
        const start = isObject(payload.start) ? payload.start : {};
        if (isObject(start.toolUse)) {
          const index = this.tools.size;
          this.tools.set(num(payload.contentBlockIndex), index);
          out.push({
            type: 'tool-call-start',
            index,
            id: str(start.toolUse.toolUseId) ?? `tooluse_${index}`,
            name: str(start.toolUse.name) ?? '',
          });
        }
        return;
      }
      case 'contentBlockDelta': {
        const delta = isObject(payload.delta) ? payload.delta : {};
        if (typeof delta.text === 'string') {
          if (delta.text) out.push({ type: 'text-delta', text: delta.text });
        } else if (isObject(delta.toolUse)) {
          const index = this.tools.get(num(payload.contentBlockIndex));
          const input = str(delta.toolUse.input);
          if (index !== undefined && input)
            out.push({ type: 'tool-call-delta', index, argumentsDelta: input });
        } else if (isObject(delta.reasoningContent)) {
          const text = str(delta.reasoningContent.text);
          if (text) out.push({ type: 'reasoning-delta', text });
        }
        return;
      }
      case 'messageStop':
        this.finished = true;
        out.push({ type: 'finish', stopReason: bedrockStopToStopReason(payload.stopReason) });
        return;
      case 'metadata': {
        const usage = bedrockUsageToCanonical(payload.usage);
        if (usage) out.push({ type: 'usage', usage });
        return;
      }
      default:
        return; // messageStart, contentBlockStop
    }
  }
}

export const bedrockConverseCodec: UpstreamCodec = {
  encodeUpstreamRequest: encodeBedrockRequest,
  decodeUpstreamResponse: decodeBedrockResponse,
  decodeUpstreamError: decodeBedrockError,
  createStreamDecoder: () => new BedrockStreamDecoder(),
};
