// The OpenAI Responses API (`POST /v1/responses`) as a client surface for channels that do not speak it
// (Anthropic, Gemini, Bedrock, Replicate, Chat-Completions-only servers): the request's input items are
// decoded into the canonical model, and the answer is written back as a Response object — or, streaming,
// as the Responses event sequence (response.created … output_text.delta … response.completed). OpenAI
// channels get the client's request as sent instead (see the relay's pass-through).

import { randomUUID } from 'node:crypto';

import {
  totalInputTokens,
  type CanonicalMessage,
  type CanonicalPart,
  type CanonicalRequest,
  type CanonicalResponse,
  type CanonicalStreamEvent,
  type CanonicalTool,
  type CanonicalToolChoice,
  type CanonicalUsage,
  type StopReason,
} from '../canonical';
import { InvalidRequestError, UnsupportedFeatureError } from '../relay.errors';
import { formatSse, SSE_CONTENT_TYPE } from '../sse';
import {
  isObject,
  type Json,
  optionalBoolean,
  optionalInteger,
  optionalNumber,
  optionalString,
  requireArray,
  requireObject,
  requireString,
} from './fields';
import { imageSourceFromUrl } from './media';
import { encodeOpenAiError } from './openai-chat.response';
import { parseEffort } from './reasoning';
import type { EncodeResponseOptions, GatewayError, StreamEncoder, StreamEndOptions } from './wire-adapter';

// ——— request ———

export function decodeResponsesRequest(body: unknown): CanonicalRequest {
  const b = requireObject(body, 'body');
  const model = requireString(b.model, 'model');
  if (b.previous_response_id !== undefined && b.previous_response_id !== null) {
    throw new UnsupportedFeatureError(
      '`previous_response_id` refers to a conversation stored by OpenAI: it needs an OpenAI channel',
      'previous_response_id',
    );
  }
  const system: string[] = [];
  const instructions = optionalString(b.instructions, 'instructions');
  if (instructions) system.push(instructions);
  const messages: CanonicalMessage[] = [];
  if (typeof b.input === 'string') {
    messages.push({ role: 'user', content: [{ type: 'text', text: b.input }] });
  } else {
    requireArray(b.input, 'input').forEach((raw, i) =>
      decodeItem(requireObject(raw, `input[${i}]`), `input[${i}]`, messages, system),
    );
  }
  if (messages.length === 0) throw new InvalidRequestError('`input` must not be empty', 'input');
  const req: CanonicalRequest = { model, messages, stream: optionalBoolean(b.stream, 'stream') ?? false };
  if (system.length) req.system = system.join('\n\n');
  const maxTokens = optionalInteger(b.max_output_tokens, 'max_output_tokens');
  if (maxTokens !== undefined) req.maxTokens = maxTokens;
  const temperature = optionalNumber(b.temperature, 'temperature');
  if (temperature !== undefined) req.temperature = temperature;
  const topP = optionalNumber(b.top_p, 'top_p');
  if (topP !== undefined) req.topP = topP;
  const parallel = optionalBoolean(b.parallel_tool_calls, 'parallel_tool_calls');
  if (parallel !== undefined) req.parallelToolCalls = parallel;
  const user = optionalString(b.user, 'user');
  if (user !== undefined) req.user = user;
  if (Array.isArray(b.tools) && b.tools.length)
    req.tools = b.tools.map((t, i) => decodeTool(requireObject(t, `tools[${i}]`), `tools[${i}]`));
  if (b.tool_choice !== undefined && b.tool_choice !== null) req.toolChoice = decodeToolChoice(b.tool_choice);
  if (isObject(b.reasoning) && typeof b.reasoning.effort === 'string') {
    const effort = parseEffort(b.reasoning.effort);
    req.reasoning =
      b.reasoning.effort === 'none'
        ? { enabled: false }
        : effort
          ? { enabled: true, effort }
          : { enabled: true };
  }
  if (isObject(b.text) && isObject(b.text.format)) {
    const format = b.text.format;
    if (format.type === 'json_schema') {
      req.responseFormat = {
        type: 'json_schema',
        schema: format.schema,
        ...(typeof format.name === 'string' ? { name: format.name } : {}),
        ...(typeof format.strict === 'boolean' ? { strict: format.strict } : {}),
      };
    } else if (format.type === 'json_object') {
      req.responseFormat = { type: 'json_object' };
    }
  }
  // The client always gets usage in response.completed.
  if (req.stream) req.streamUsage = true;
  return req;
}

function decodeItem(item: Json, path: string, messages: CanonicalMessage[], system: string[]): void {
  const type = typeof item.type === 'string' ? item.type : 'message';
  switch (type) {
    case 'message': {
      const role = requireString(item.role, `${path}.role`);
      if (role === 'system' || role === 'developer') {
        const text = textOf(item.content, `${path}.content`);
        if (messages.length === 0) system.push(text);
        else messages.push({ role: 'system', content: [{ type: 'text', text }] });
        return;
      }
      if (role !== 'user' && role !== 'assistant') {
        throw new InvalidRequestError(
          `\`${path}.role\` must be user, assistant, system or developer`,
          `${path}.role`,
        );
      }
      const content = contentParts(item.content, `${path}.content`, role);
      push(messages, role, content);
      return;
    }
    case 'function_call':
      push(messages, 'assistant', [
        {
          type: 'tool_call',
          id: requireString(item.call_id, `${path}.call_id`),
          name: requireString(item.name, `${path}.name`),
          arguments:
            typeof item.arguments === 'string' ? item.arguments : JSON.stringify(item.arguments ?? {}),
        },
      ]);
      return;
    case 'function_call_output':
      messages.push({
        role: 'tool',
        content: [
          {
            type: 'tool_result',
            toolCallId: requireString(item.call_id, `${path}.call_id`),
            content: typeof item.output === 'string' ? item.output : textOf(item.output, `${path}.output`),
          },
        ],
      });
      return;
    case 'reasoning':
      return; // OpenAI's own reasoning items mean nothing to other providers
    default:
      throw new UnsupportedFeatureError(
        `\`${path}\` (item "${type}") can only be sent to OpenAI channels`,
        path,
      );
  }
}

/** Consecutive items of one role (an assistant text then its function calls) form one message. */
function push(messages: CanonicalMessage[], role: 'user' | 'assistant', content: CanonicalPart[]): void {
  const last = messages.at(-1);
  if (last && last.role === role) last.content.push(...content);
  else messages.push({ role, content });
}

function contentParts(content: unknown, path: string, role: 'user' | 'assistant'): CanonicalPart[] {
  if (typeof content === 'string') return [{ type: 'text', text: content }];
  return requireArray(content, path).map((raw, j): CanonicalPart => {
    const partPath = `${path}[${j}]`;
    const part = requireObject(raw, partPath);
    switch (part.type) {
      case 'input_text':
      case 'output_text':
      case 'text':
        return { type: 'text', text: requireString(part.text, `${partPath}.text`) };
      case 'refusal':
        return { type: 'text', text: requireString(part.refusal, `${partPath}.refusal`) };
      case 'input_image': {
        if (role !== 'user' || typeof part.image_url !== 'string') break;
        const detail =
          part.detail === 'low' || part.detail === 'high' || part.detail === 'auto' ? part.detail : undefined;
        return { type: 'image', source: imageSourceFromUrl(part.image_url), ...(detail ? { detail } : {}) };
      }
      default:
        break;
    }
    return { type: 'opaque', format: 'openai', kind: String(part.type), value: part };
  });
}

function textOf(content: unknown, path: string): string {
  if (typeof content === 'string') return content;
  return requireArray(content, path)
    .map((p) => (isObject(p) && typeof p.text === 'string' ? p.text : ''))
    .join('');
}

function decodeTool(tool: Json, path: string): CanonicalTool {
  if (tool.type !== 'function') {
    return { name: String(tool.type), builtin: { format: 'openai', definition: tool } };
  }
  const out: CanonicalTool = { name: requireString(tool.name, `${path}.name`) };
  if (typeof tool.description === 'string') out.description = tool.description;
  if (isObject(tool.parameters)) out.parameters = tool.parameters;
  if (typeof tool.strict === 'boolean') out.strict = tool.strict;
  return out;
}

function decodeToolChoice(choice: unknown): CanonicalToolChoice {
  if (choice === 'auto' || choice === 'none' || choice === 'required') return choice;
  if (isObject(choice) && choice.type === 'function' && typeof choice.name === 'string')
    return { name: choice.name };
  throw new InvalidRequestError(
    '`tool_choice` must be auto, none, required or {type: "function", name}',
    'tool_choice',
  );
}

// ——— response ———

function responsesUsage(usage: CanonicalUsage, costUsd?: number): Json {
  const input = totalInputTokens(usage);
  const out: Json = {
    input_tokens: input,
    input_tokens_details: { cached_tokens: usage.cacheReadTokens },
    output_tokens: usage.outputTokens,
    output_tokens_details: { reasoning_tokens: usage.reasoningTokens },
    total_tokens: input + usage.outputTokens,
  };
  if (costUsd !== undefined) out.cost = costUsd;
  return out;
}

const newId = (prefix: string) => `${prefix}_${randomUUID().replace(/-/g, '')}`;

function status(stop: StopReason | undefined): { status: string; incomplete_details: Json | null } {
  if (stop === 'max_tokens')
    return { status: 'incomplete', incomplete_details: { reason: 'max_output_tokens' } };
  if (stop === 'content_filter')
    return { status: 'incomplete', incomplete_details: { reason: 'content_filter' } };
  return { status: 'completed', incomplete_details: null };
}

function envelope(id: string, model: string, createdAt: number, output: Json[], extra: Json): Json {
  return {
    id,
    object: 'response',
    created_at: createdAt,
    error: null,
    instructions: null,
    model,
    output,
    parallel_tool_calls: true,
    tool_choice: 'auto',
    tools: [],
    ...extra,
  };
}

export function encodeResponsesResponse(res: CanonicalResponse, opts: EncodeResponseOptions = {}): Json {
  const output: Json[] = [];
  const texts: string[] = [];
  for (const part of res.content) {
    if (part.type === 'reasoning') {
      output.push({
        type: 'reasoning',
        id: newId('rs'),
        summary: [{ type: 'summary_text', text: part.text }],
      });
    } else if (part.type === 'text') {
      texts.push(part.text);
    } else {
      output.push({
        type: 'function_call',
        id: newId('fc'),
        call_id: part.id,
        name: part.name,
        arguments: part.arguments,
        status: 'completed',
      });
    }
  }
  if (texts.length) {
    const message = {
      type: 'message',
      id: newId('msg'),
      status: 'completed',
      role: 'assistant',
      content: [{ type: 'output_text', text: texts.join(''), annotations: [], logprobs: [] }],
    };
    // The answer's text comes before its function calls, as OpenAI orders them.
    output.splice(
      output.findIndex((o) => o.type === 'function_call') >= 0
        ? output.findIndex((o) => o.type === 'function_call')
        : output.length,
      0,
      message,
    );
  }
  return envelope(
    res.id.startsWith('resp_') ? res.id : newId('resp'),
    res.model,
    res.created ?? Math.floor(Date.now() / 1000),
    output,
    {
      ...status(res.stopReason),
      usage: res.usage ? responsesUsage(res.usage, opts.costUsd) : null,
    },
  );
}

type OpenItem =
  | { kind: 'message'; id: string; index: number; text: string }
  | { kind: 'reasoning'; id: string; index: number; text: string };

/** Writes canonical stream events as the Responses API's SSE sequence. */
export class ResponsesStreamEncoder implements StreamEncoder {
  readonly contentType = SSE_CONTENT_TYPE;
  private readonly id = newId('resp');
  private readonly createdAt = Math.floor(Date.now() / 1000);
  private seq = 0;
  private started = false;
  private closed = false;
  private open: OpenItem | undefined;
  private readonly output: Json[] = [];
  private readonly tools = new Map<
    number,
    { id: string; index: number; callId: string; name: string; args: string; done: boolean }
  >();
  private usage: CanonicalUsage | undefined;
  private stopReason: StopReason | undefined;

  constructor(private readonly model: string) {}

  encode(event: CanonicalStreamEvent): string {
    if (this.closed) return '';
    switch (event.type) {
      case 'start':
        return this.begin();
      case 'text-delta':
        return this.begin() + this.openItem('message') + this.delta(event.text);
      case 'reasoning-delta':
        return this.begin() + this.openItem('reasoning') + this.delta(event.text);
      case 'tool-call-start': {
        let out = this.begin() + this.closeItem();
        const index = this.output.length;
        const item = { id: newId('fc'), index, callId: event.id, name: event.name, args: '', done: false };
        this.tools.set(event.index, item);
        this.output.push({
          type: 'function_call',
          id: item.id,
          call_id: item.callId,
          name: item.name,
          arguments: '',
          status: 'in_progress',
        });
        out += this.emit('response.output_item.added', {
          output_index: index,
          item: { ...this.output[index] },
        });
        return out;
      }
      case 'tool-call-delta': {
        const tool = this.tools.get(event.index);
        if (!tool) return '';
        tool.args += event.argumentsDelta;
        return this.emit('response.function_call_arguments.delta', {
          item_id: tool.id,
          output_index: tool.index,
          delta: event.argumentsDelta,
        });
      }
      case 'usage':
        this.usage = event.usage;
        return '';
      case 'finish':
        this.stopReason = event.stopReason;
        return '';
      case 'error':
        return this.error({
          status: event.status ?? 502,
          code: event.errorType,
          upstreamType: event.errorType,
          message: event.message,
        });
    }
  }

  end(opts: StreamEndOptions = {}): string {
    if (this.closed) return '';
    let out = this.begin() + this.closeItem();
    for (const tool of this.tools.values()) out += this.closeTool(tool);
    this.closed = true;
    const usage = opts.usage ?? this.usage;
    const { status: state, incomplete_details } = status(this.stopReason);
    const response = this.snapshot(state, {
      incomplete_details,
      usage: usage ? responsesUsage(usage, opts.costUsd) : null,
    });
    return (
      out + this.emit(state === 'completed' ? 'response.completed' : 'response.incomplete', { response })
    );
  }

  error(err: GatewayError): string {
    if (this.closed) return '';
    this.closed = true;
    const body = encodeOpenAiError(err).error as Json;
    return this.emit('error', { code: body.code, message: body.message, param: body.param ?? null });
  }

  private emit(type: string, payload: Json): string {
    return formatSse(JSON.stringify({ type, sequence_number: this.seq++, ...payload }), type);
  }

  private snapshot(state: string, extra: Json = {}): Json {
    return envelope(this.id, this.model, this.createdAt, this.output, {
      status: state,
      incomplete_details: null,
      usage: null,
      ...extra,
    });
  }

  private begin(): string {
    if (this.started) return '';
    this.started = true;
    return (
      this.emit('response.created', { response: this.snapshot('in_progress') }) +
      this.emit('response.in_progress', { response: this.snapshot('in_progress') })
    );
  }

  private openItem(kind: OpenItem['kind']): string {
    if (this.open?.kind === kind) return '';
    let out = this.closeItem();
    const index = this.output.length;
    const id = newId(kind === 'message' ? 'msg' : 'rs');
    this.open = { kind, id, index, text: '' };
    if (kind === 'message') {
      this.output.push({ type: 'message', id, status: 'in_progress', role: 'assistant', content: [] });
      out += this.emit('response.output_item.added', {
        output_index: index,
        item: { ...this.output[index], content: [] },
      });
      out += this.emit('response.content_part.added', {
        item_id: id,
        output_index: index,
        content_index: 0,
        part: { type: 'output_text', text: '', annotations: [] },
      });
    } else {
      this.output.push({ type: 'reasoning', id, summary: [] });
      out += this.emit('response.output_item.added', {
        output_index: index,
        item: { type: 'reasoning', id, summary: [] },
      });
      out += this.emit('response.reasoning_summary_part.added', {
        item_id: id,
        output_index: index,
        summary_index: 0,
        part: { type: 'summary_text', text: '' },
      });
    }
    return out;
  }

  private delta(text: string): string {
    const item = this.open!;
    item.text += text;
    return item.kind === 'message'
      ? this.emit('response.output_text.delta', {
          item_id: item.id,
          output_index: item.index,
          content_index: 0,
          delta: text,
          logprobs: [],
        })
      : this.emit('response.reasoning_summary_text.delta', {
          item_id: item.id,
          output_index: item.index,
          summary_index: 0,
          delta: text,
        });
  }

  private closeItem(): string {
    const item = this.open;
    if (!item) return '';
    this.open = undefined;
    if (item.kind === 'message') {
      const part = { type: 'output_text', text: item.text, annotations: [], logprobs: [] };
      this.output[item.index] = {
        type: 'message',
        id: item.id,
        status: 'completed',
        role: 'assistant',
        content: [part],
      };
      return (
        this.emit('response.output_text.done', {
          item_id: item.id,
          output_index: item.index,
          content_index: 0,
          text: item.text,
          logprobs: [],
        }) +
        this.emit('response.content_part.done', {
          item_id: item.id,
          output_index: item.index,
          content_index: 0,
          part,
        }) +
        this.emit('response.output_item.done', { output_index: item.index, item: this.output[item.index] })
      );
    }
    const part = { type: 'summary_text', text: item.text };
    this.output[item.index] = { type: 'reasoning', id: item.id, summary: [part] };
    return (
      this.emit('response.reasoning_summary_text.done', {
        item_id: item.id,
        output_index: item.index,
        summary_index: 0,
        text: item.text,
      }) +
      this.emit('response.reasoning_summary_part.done', {
        item_id: item.id,
        output_index: item.index,
        summary_index: 0,
        part,
      }) +
      this.emit('response.output_item.done', { output_index: item.index, item: this.output[item.index] })
    );
  }

  private closeTool(tool: {
    id: string;
    index: number;
    callId: string;
    name: string;
    args: string;
    done: boolean;
  }): string {
    if (tool.done) return '';
    tool.done = true;
    const item = {
      type: 'function_call',
      id: tool.id,
      call_id: tool.callId,
      name: tool.name,
      arguments: tool.args,
      status: 'completed',
    };
    this.output[tool.index] = item;
    return (
      this.emit('response.function_call_arguments.done', {
        item_id: tool.id,
        output_index: tool.index,
        arguments: tool.args,
      }) + this.emit('response.output_item.done', { output_index: tool.index, item })
    );
  }
}

/** The client side of the Responses surface, in the shape the relay's client encoders take. */
export const responsesClientCodec = {
  encodeResponse: encodeResponsesResponse,
  createStreamEncoder: (req: CanonicalRequest, opts: { model?: string } = {}): StreamEncoder =>
    new ResponsesStreamEncoder(opts.model ?? req.model),
};
