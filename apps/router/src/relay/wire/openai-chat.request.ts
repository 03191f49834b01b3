// OpenAI Chat Completions requests: decoding what a customer's OpenAI SDK sends to the gateway, and
// encoding the body the gateway sends to an OpenAI-format channel (`POST /v1/chat/completions`).

import type {
  CanonicalMessage,
  CanonicalPart,
  CanonicalRequest,
  CanonicalResponseFormat,
  CanonicalTool,
  CanonicalToolChoice,
  ImagePart,
  TextPart,
  ToolResultPart,
} from '../canonical';
import { InvalidRequestError } from '../relay.errors';
import {
  isObject,
  type Json,
  optionalBoolean,
  optionalInteger,
  optionalNumber,
  optionalString,
  optionalStringList,
  requireArray,
  requireObject,
  requireString,
  str,
  unknownParams,
} from './fields';
import { imageSourceFromUrl, imageSourceToUrl } from './media';
import { foreignPartError, portableTools, sameFormatExtra } from './portability';
import { parseEffort, reasoningEffort } from './reasoning';
import type { DecodeContext, UpstreamRequest } from './wire-adapter';

const KNOWN_PARAMS = new Set([
  'model',
  'messages',
  'max_tokens',
  'max_completion_tokens',
  'temperature',
  'top_p',
  'seed',
  'stop',
  'stream',
  'stream_options',
  'tools',
  'tool_choice',
  'parallel_tool_calls',
  'response_format',
  'reasoning_effort',
  'user',
]);

export function decodeOpenAiRequest(body: unknown, ctx: DecodeContext = {}): CanonicalRequest {
  const b = requireObject(body, 'body');
  const model = optionalString(b.model, 'model') ?? ctx.modelFromPath;
  if (!model) throw new InvalidRequestError('`model` is required', 'model');
  const rawMessages = requireArray(b.messages, 'messages');
  if (rawMessages.length === 0) throw new InvalidRequestError('`messages` must not be empty', 'messages');

  const req: CanonicalRequest = {
    model,
    ...decodeMessages(rawMessages),
    stream: optionalBoolean(b.stream, 'stream') ?? ctx.streamFromPath ?? false,
  };
  const streamOptions =
    b.stream_options === undefined ? undefined : requireObject(b.stream_options, 'stream_options');
  if (streamOptions?.include_usage === true) req.streamUsage = true;
  const maxTokens =
    optionalInteger(b.max_completion_tokens, 'max_completion_tokens') ??
    optionalInteger(b.max_tokens, 'max_tokens');
  if (maxTokens !== undefined) req.maxTokens = maxTokens;
  assign(req, 'temperature', optionalNumber(b.temperature, 'temperature'));
  assign(req, 'topP', optionalNumber(b.top_p, 'top_p'));
  assign(req, 'seed', optionalNumber(b.seed, 'seed'));
  assign(req, 'stop', optionalStringList(b.stop, 'stop'));
  assign(req, 'user', optionalString(b.user, 'user'));
  assign(req, 'parallelToolCalls', optionalBoolean(b.parallel_tool_calls, 'parallel_tool_calls'));
  if (b.tools !== undefined && b.tools !== null) req.tools = decodeTools(requireArray(b.tools, 'tools'));
  if (b.tool_choice !== undefined && b.tool_choice !== null) req.toolChoice = decodeToolChoice(b.tool_choice);
  if (b.response_format !== undefined && b.response_format !== null) {
    req.responseFormat = decodeResponseFormat(requireObject(b.response_format, 'response_format'));
  }
  const effort = optionalString(b.reasoning_effort, 'reasoning_effort');
  if (effort !== undefined) {
    const parsed = parseEffort(effort);
    // Unknown future effort words still mean "reason"; only `none` turns it off.
    req.reasoning =
      effort === 'none' ? { enabled: false } : parsed ? { enabled: true, effort: parsed } : { enabled: true };
  }
  const extra = unknownParams(b, KNOWN_PARAMS);
  if (extra) req.extra = { format: 'openai', params: extra };
  return req;
}

function assign<K extends keyof CanonicalRequest>(
  req: CanonicalRequest,
  key: K,
  value: CanonicalRequest[K],
): void {
  if (value !== undefined) req[key] = value;
}

function decodeMessages(raw: unknown[]): { system?: string; messages: CanonicalMessage[] } {
  const system: string[] = [];
  const messages: CanonicalMessage[] = [];
  raw.forEach((item, i) => {
    const path = `messages[${i}]`;
    const m = requireObject(item, path);
    const role = requireString(m.role, `${path}.role`);
    switch (role) {
      case 'system':
      case 'developer': {
        const text = textParts(m.content, `${path}.content`)
          .map((p) => p.text)
          .join('\n');
        // Instructions before the first turn are the system prompt; later ones keep their position.
        if (messages.length === 0) system.push(text);
        else messages.push({ role: 'system', content: [{ type: 'text', text }] });
        return;
      }
      case 'user':
        messages.push({ role: 'user', content: userParts(m.content, `${path}.content`) });
        return;
      case 'assistant':
        messages.push({ role: 'assistant', content: assistantParts(m, path) });
        return;
      case 'tool': {
        const toolCallId = requireString(m.tool_call_id, `${path}.tool_call_id`);
        const content = textParts(m.content, `${path}.content`);
        const result: ToolResultPart = {
          type: 'tool_result',
          toolCallId,
          content: content.length === 1 ? content[0].text : content,
        };
        messages.push({ role: 'tool', content: [result] });
        return;
      }
      case 'function':
        throw new InvalidRequestError(
          `\`${path}.role\` "function" is the deprecated function-calling API; send tools and tool messages instead`,
          `${path}.role`,
        );
      default:
        throw new InvalidRequestError(
          `\`${path}.role\` must be one of system, developer, user, assistant, tool (got "${role}")`,
          `${path}.role`,
        );
    }
  });
  return system.length > 0 ? { system: system.join('\n\n'), messages } : { messages };
}

/** `string | Array<{type:'text', text}>`, as system, developer and tool messages allow. */
function textParts(content: unknown, path: string): TextPart[] {
  if (typeof content === 'string') return [{ type: 'text', text: content }];
  return requireArray(content, path).map((item, j) => {
    const part = requireObject(item, `${path}[${j}]`);
    if (part.type !== 'text') {
      throw new InvalidRequestError(
        `\`${path}[${j}].type\` must be "text" in this message`,
        `${path}[${j}].type`,
      );
    }
    return { type: 'text', text: requireString(part.text, `${path}[${j}].text`) };
  });
}

function userParts(content: unknown, path: string): CanonicalPart[] {
  if (typeof content === 'string') return [{ type: 'text', text: content }];
  return requireArray(content, path).map((item, j): CanonicalPart => {
    const partPath = `${path}[${j}]`;
    const part = requireObject(item, partPath);
    const type = requireString(part.type, `${partPath}.type`);
    if (type === 'text') return { type: 'text', text: requireString(part.text, `${partPath}.text`) };
    if (type === 'image_url') return imagePart(part.image_url, `${partPath}.image_url`);
    return { type: 'opaque', format: 'openai', kind: type, value: part };
  });
}

function imagePart(value: unknown, path: string): ImagePart {
  // Some clients send the URL as a bare string instead of `{url, detail}`.
  if (typeof value === 'string') return { type: 'image', source: imageSourceFromUrl(value) };
  const image = requireObject(value, path);
  const part: ImagePart = {
    type: 'image',
    source: imageSourceFromUrl(requireString(image.url, `${path}.url`)),
  };
  if (image.detail === 'auto' || image.detail === 'low' || image.detail === 'high')
    part.detail = image.detail;
  return part;
}

function assistantParts(m: Json, path: string): CanonicalPart[] {
  const parts: CanonicalPart[] = [];
  // Not in OpenAI's schema, but DeepSeek-style servers and our own responses carry reasoning this way.
  const reasoning = m.reasoning_content ?? m.reasoning;
  if (typeof reasoning === 'string' && reasoning) parts.push({ type: 'reasoning', text: reasoning });
  if (typeof m.content === 'string') {
    if (m.content) parts.push({ type: 'text', text: m.content });
  } else if (Array.isArray(m.content)) {
    m.content.forEach((item, j) => {
      const part = requireObject(item, `${path}.content[${j}]`);
      const text = part.type === 'refusal' ? part.refusal : part.text;
      parts.push({ type: 'text', text: requireString(text, `${path}.content[${j}].${String(part.type)}`) });
    });
  }
  if (m.tool_calls !== undefined && m.tool_calls !== null) {
    requireArray(m.tool_calls, `${path}.tool_calls`).forEach((item, j) => {
      const callPath = `${path}.tool_calls[${j}]`;
      const call = requireObject(item, callPath);
      if (!isObject(call.function)) {
        parts.push({ type: 'opaque', format: 'openai', kind: str(call.type) ?? 'tool_call', value: call });
        return;
      }
      const args = call.function.arguments;
      parts.push({
        type: 'tool_call',
        id: requireString(call.id, `${callPath}.id`),
        name: requireString(call.function.name, `${callPath}.function.name`),
        arguments: typeof args === 'string' ? args : JSON.stringify(args ?? {}),
      });
    });
  }
  return parts;
}

function decodeTools(raw: unknown[]): CanonicalTool[] {
  return raw.map((item, i) => {
    const path = `tools[${i}]`;
    const tool = requireObject(item, path);
    if (tool.type !== 'function') {
      const type = requireString(tool.type, `${path}.type`);
      const custom = isObject(tool[type]) ? tool[type] : undefined;
      const name = custom && typeof custom.name === 'string' ? custom.name : type;
      return { name, builtin: { format: 'openai', definition: tool } };
    }
    const fn = requireObject(tool.function, `${path}.function`);
    const out: CanonicalTool = { name: requireString(fn.name, `${path}.function.name`) };
    const description = optionalString(fn.description, `${path}.function.description`);
    if (description !== undefined) out.description = description;
    if (fn.parameters !== undefined && fn.parameters !== null) {
      out.parameters = requireObject(fn.parameters, `${path}.function.parameters`);
    }
    const strict = optionalBoolean(fn.strict, `${path}.function.strict`);
    if (strict !== undefined) out.strict = strict;
    return out;
  });
}

function decodeToolChoice(value: unknown): CanonicalToolChoice {
  if (value === 'auto' || value === 'none' || value === 'required') return value;
  if (typeof value === 'string') {
    throw new InvalidRequestError(
      '`tool_choice` must be "auto", "none", "required" or an object',
      'tool_choice',
    );
  }
  const choice = requireObject(value, 'tool_choice');
  if (isObject(choice.function))
    return { name: requireString(choice.function.name, 'tool_choice.function.name') };
  if (choice.type === 'allowed_tools' && isObject(choice.allowed_tools)) {
    return choice.allowed_tools.mode === 'required' ? 'required' : 'auto';
  }
  return 'auto';
}

function decodeResponseFormat(format: Json): CanonicalResponseFormat {
  const type = requireString(format.type, 'response_format.type');
  if (type === 'text' || type === 'json_object') return { type };
  if (type !== 'json_schema') {
    throw new InvalidRequestError(
      '`response_format.type` must be "text", "json_object" or "json_schema"',
      'response_format.type',
    );
  }
  const spec = requireObject(format.json_schema, 'response_format.json_schema');
  const out: CanonicalResponseFormat = { type: 'json_schema', schema: spec.schema ?? {} };
  const name = optionalString(spec.name, 'response_format.json_schema.name');
  if (name !== undefined) out.name = name;
  const strict = optionalBoolean(spec.strict, 'response_format.json_schema.strict');
  if (strict !== undefined) out.strict = strict;
  return out;
}

// ——— upstream: canonical → an OpenAI-format channel ———

export function encodeOpenAiUpstreamRequest(req: CanonicalRequest, upstreamModel: string): UpstreamRequest {
  const body: Json = sameFormatExtra(req, 'openai');
  body.model = upstreamModel;
  body.messages = encodeMessages(req);
  if (req.stream) {
    body.stream = true;
    // Always ask for usage: without it a stream cannot be billed (PITFALLS: "Streams billed as zero").
    body.stream_options = { include_usage: true };
  }
  // `max_completion_tokens` replaced `max_tokens`, which reasoning models reject.
  if (req.maxTokens !== undefined) body.max_completion_tokens = req.maxTokens;
  if (req.temperature !== undefined) body.temperature = req.temperature;
  if (req.topP !== undefined) body.top_p = req.topP;
  if (req.seed !== undefined) body.seed = req.seed;
  if (req.stop?.length) body.stop = req.stop;
  if (req.user !== undefined) body.user = req.user;
  const tools = portableTools(req.tools, 'openai');
  if (tools.length > 0) {
    body.tools = tools.map((tool) => tool.builtin?.definition ?? encodeFunctionTool(tool));
    if (req.toolChoice !== undefined) body.tool_choice = encodeToolChoice(req.toolChoice);
    if (req.parallelToolCalls !== undefined) body.parallel_tool_calls = req.parallelToolCalls;
  }
  if (req.responseFormat) body.response_format = encodeResponseFormat(req.responseFormat);
  // Sent only when reasoning is asked for: non-reasoning models reject the parameter, even as "none".
  if (req.reasoning?.enabled) body.reasoning_effort = reasoningEffort(req.reasoning);
  // Relative to an OpenAI-style base URL, which ends in /v1 (https://api.openai.com/v1).
  return { path: '/chat/completions', body };
}

function encodeFunctionTool(tool: CanonicalTool): Json {
  const fn: Json = { name: tool.name };
  if (tool.description !== undefined) fn.description = tool.description;
  fn.parameters = tool.parameters ?? { type: 'object', properties: {} };
  if (tool.strict !== undefined) fn.strict = tool.strict;
  return { type: 'function', function: fn };
}

function encodeToolChoice(choice: CanonicalToolChoice): unknown {
  return typeof choice === 'string' ? choice : { type: 'function', function: { name: choice.name } };
}

function encodeResponseFormat(format: CanonicalResponseFormat): Json {
  if (format.type !== 'json_schema') return { type: format.type };
  const spec: Json = { name: format.name ?? 'response', schema: format.schema };
  if (format.strict !== undefined) spec.strict = format.strict;
  return { type: 'json_schema', json_schema: spec };
}

function encodeMessages(req: CanonicalRequest): Json[] {
  const out: Json[] = [];
  if (req.system) out.push({ role: 'system', content: req.system });
  // OpenAI tool messages are text only; images a tool returned follow as one user message once the run of
  // tool messages is over (a user message in between would orphan the remaining tool results).
  let toolImages: ImagePart[] = [];
  const flushToolImages = (): void => {
    if (toolImages.length === 0) return;
    out.push({
      role: 'user',
      content: [
        { type: 'text', text: 'Images returned by the tool call(s) above:' },
        ...toolImages.map(encodeImage),
      ],
    });
    toolImages = [];
  };
  req.messages.forEach((message, i) => {
    const path = `messages[${i}]`;
    if (message.role !== 'tool') flushToolImages();
    switch (message.role) {
      case 'system':
        out.push({ role: 'system', content: joinText(message.content) });
        break;
      case 'user':
        out.push({ role: 'user', content: encodeUserContent(message.content, path) });
        break;
      case 'assistant':
        out.push(encodeAssistant(message.content));
        break;
      case 'tool':
        message.content.forEach((part, j) => {
          if (part.type !== 'tool_result') return;
          const texts: string[] = [];
          if (typeof part.content === 'string') texts.push(part.content);
          else
            part.content.forEach((p, k) => {
              if (p.type === 'text') texts.push(p.text);
              else if (p.type === 'image') toolImages.push(p);
              else throw foreignPartError(p, 'openai', `${path}.content[${j}].content[${k}]`);
            });
          out.push({ role: 'tool', tool_call_id: part.toolCallId, content: texts.join('\n') });
        });
        break;
    }
  });
  flushToolImages();
  return out;
}

function joinText(parts: CanonicalPart[]): string {
  return parts
    .filter((p): p is TextPart => p.type === 'text')
    .map((p) => p.text)
    .join('\n');
}

function encodeImage(part: ImagePart): Json {
  const image: Json = { url: imageSourceToUrl(part.source) };
  if (part.detail) image.detail = part.detail;
  return { type: 'image_url', image_url: image };
}

function encodeUserContent(parts: CanonicalPart[], path: string): string | Json[] {
  if (parts.length === 1 && parts[0].type === 'text') return parts[0].text;
  const out: Json[] = [];
  parts.forEach((part, j) => {
    if (part.type === 'text') out.push({ type: 'text', text: part.text });
    else if (part.type === 'image') out.push(encodeImage(part));
    else if (part.type === 'opaque') {
      if (part.format !== 'openai') throw foreignPartError(part, 'openai', `${path}.content[${j}]`);
      out.push(part.value as Json);
    }
  });
  return out;
}

function encodeAssistant(parts: CanonicalPart[]): Json {
  // Reasoning is not sent back: Chat Completions has no input field for it.
  const text = joinText(parts);
  const toolCalls: unknown[] = [];
  for (const part of parts) {
    if (part.type === 'tool_call') {
      toolCalls.push({
        id: part.id,
        type: 'function',
        function: { name: part.name, arguments: part.arguments },
      });
    } else if (part.type === 'opaque' && part.format === 'openai') {
      toolCalls.push(part.value);
    }
  }
  const message: Json = { role: 'assistant', content: text || (toolCalls.length > 0 ? null : '') };
  if (toolCalls.length > 0) message.tool_calls = toolCalls;
  return message;
}
