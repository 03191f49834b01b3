// Anthropic Messages requests: decoding what a customer's Anthropic SDK sends to `/v1/messages`, and
// encoding the body the gateway sends to an Anthropic-format channel.

import type {
  CanonicalMessage,
  CanonicalPart,
  CanonicalRequest,
  CanonicalTool,
  CanonicalToolChoice,
  ImagePart,
  OpaquePart,
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
  parseArgumentsObject,
  requireArray,
  requireObject,
  requireString,
  unknownParams,
} from './fields';
import { combinedSystem, foreignPartError, portableTools, sameFormatExtra } from './portability';
import { parseEffort, reasoningBudget } from './reasoning';
import type { DecodeContext, UpstreamRequest } from './wire-adapter';

const KNOWN_PARAMS = new Set([
  'model',
  'messages',
  'max_tokens',
  'system',
  'stop_sequences',
  'stream',
  'temperature',
  'top_p',
  'top_k',
  'tools',
  'tool_choice',
  'thinking',
  'output_config',
  'metadata',
]);

export const ANTHROPIC_VERSION = '2023-06-01';
/** `max_tokens` is required by Anthropic; used when the client's format let it be omitted. */
export const DEFAULT_MAX_TOKENS = 4096;
const MIN_THINKING_BUDGET = 1024;

export function decodeAnthropicRequest(body: unknown, ctx: DecodeContext = {}): CanonicalRequest {
  const b = requireObject(body, 'body');
  const model = optionalString(b.model, 'model') ?? ctx.modelFromPath;
  if (!model) throw new InvalidRequestError('`model` is required', 'model');
  const rawMessages = requireArray(b.messages, 'messages');
  if (rawMessages.length === 0) throw new InvalidRequestError('`messages` must not be empty', 'messages');

  const req: CanonicalRequest = {
    model,
    messages: decodeMessages(rawMessages),
    stream: optionalBoolean(b.stream, 'stream') ?? ctx.streamFromPath ?? false,
  };
  const system = decodeSystem(b.system);
  if (system) req.system = system;
  const maxTokens = optionalInteger(b.max_tokens, 'max_tokens');
  if (maxTokens !== undefined) req.maxTokens = maxTokens;
  const temperature = optionalNumber(b.temperature, 'temperature');
  if (temperature !== undefined) req.temperature = temperature;
  const topP = optionalNumber(b.top_p, 'top_p');
  if (topP !== undefined) req.topP = topP;
  const topK = optionalInteger(b.top_k, 'top_k');
  if (topK !== undefined) req.topK = topK;
  const stop = optionalStringList(b.stop_sequences, 'stop_sequences');
  if (stop) req.stop = stop;
  if (b.tools !== undefined && b.tools !== null) req.tools = decodeTools(requireArray(b.tools, 'tools'));
  if (b.tool_choice !== undefined && b.tool_choice !== null) {
    const choice = requireObject(b.tool_choice, 'tool_choice');
    req.toolChoice = decodeToolChoice(choice);
    if (choice.disable_parallel_tool_use === true) req.parallelToolCalls = false;
  }
  decodeThinking(b, req);
  if (isObject(b.metadata) && typeof b.metadata.user_id === 'string') req.user = b.metadata.user_id;
  const extra = unknownParams(b, KNOWN_PARAMS);
  if (extra) req.extra = { format: 'anthropic', params: extra };
  return req;
}

function decodeSystem(value: unknown): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'string') return value || undefined;
  const texts = requireArray(value, 'system').map((item, i) => {
    const block = requireObject(item, `system[${i}]`);
    return requireString(block.text, `system[${i}].text`);
  });
  return texts.join('\n') || undefined;
}

function decodeThinking(b: Json, req: CanonicalRequest): void {
  if (b.thinking !== undefined && b.thinking !== null) {
    const thinking = requireObject(b.thinking, 'thinking');
    const type = requireString(thinking.type, 'thinking.type');
    if (type === 'disabled') req.reasoning = { enabled: false };
    else {
      req.reasoning = { enabled: true };
      const budget = optionalInteger(thinking.budget_tokens, 'thinking.budget_tokens');
      if (budget !== undefined) req.reasoning.budgetTokens = budget;
    }
  }
  if (b.output_config === undefined || b.output_config === null) return;
  const config = requireObject(b.output_config, 'output_config');
  const effort = typeof config.effort === 'string' ? parseEffort(config.effort) : undefined;
  if (effort) req.reasoning = { ...(req.reasoning ?? { enabled: false }), effort };
  if (isObject(config.format) && config.format.type === 'json_schema') {
    req.responseFormat = { type: 'json_schema', schema: config.format.schema ?? {} };
  }
}

function decodeMessages(raw: unknown[]): CanonicalMessage[] {
  const messages: CanonicalMessage[] = [];
  raw.forEach((item, i) => {
    const path = `messages[${i}]`;
    const m = requireObject(item, path);
    const role = requireString(m.role, `${path}.role`);
    if (role !== 'user' && role !== 'assistant' && role !== 'system') {
      throw new InvalidRequestError(
        `\`${path}.role\` must be "user" or "assistant" (got "${role}")`,
        `${path}.role`,
      );
    }
    const blocks: Json[] =
      typeof m.content === 'string'
        ? [{ type: 'text', text: m.content }]
        : requireArray(m.content, `${path}.content`).map((block, j) =>
            requireObject(block, `${path}.content[${j}]`),
          );
    if (role === 'assistant') {
      messages.push({
        role,
        content: blocks.map((block, j) => assistantPart(block, `${path}.content[${j}]`)),
      });
      return;
    }
    // Anthropic returns tool results inside a user turn; canonically they are a tool turn of their own,
    // placed before the rest of the user turn (Anthropic requires tool results to come first anyway).
    const results: ToolResultPart[] = [];
    const rest: CanonicalPart[] = [];
    blocks.forEach((block, j) => {
      const partPath = `${path}.content[${j}]`;
      if (block.type === 'tool_result') results.push(toolResult(block, partPath));
      else rest.push(userPart(block, partPath));
    });
    if (results.length > 0) messages.push({ role: 'tool', content: results });
    if (rest.length > 0 || results.length === 0)
      messages.push({ role: role === 'system' ? 'system' : 'user', content: rest });
  });
  return messages;
}

function opaque(block: Json): OpaquePart {
  return { type: 'opaque', format: 'anthropic', kind: String(block.type), value: block };
}

function userPart(block: Json, path: string): TextPart | ImagePart | OpaquePart {
  if (block.type === 'text') return { type: 'text', text: requireString(block.text, `${path}.text`) };
  if (block.type === 'image') {
    const source = requireObject(block.source, `${path}.source`);
    if (source.type === 'base64') {
      return {
        type: 'image',
        source: {
          kind: 'base64',
          mediaType: requireString(source.media_type, `${path}.source.media_type`),
          data: requireString(source.data, `${path}.source.data`),
        },
      };
    }
    if (source.type === 'url') {
      return { type: 'image', source: { kind: 'url', url: requireString(source.url, `${path}.source.url`) } };
    }
  }
  return opaque(block);
}

function assistantPart(block: Json, path: string): CanonicalPart {
  switch (block.type) {
    case 'text':
      return { type: 'text', text: requireString(block.text, `${path}.text`) };
    case 'thinking': {
      const part: CanonicalPart = {
        type: 'reasoning',
        text: requireString(block.thinking, `${path}.thinking`),
      };
      if (typeof block.signature === 'string' && block.signature) {
        part.signature = { format: 'anthropic', value: block.signature };
      }
      return part;
    }
    case 'tool_use':
      return {
        type: 'tool_call',
        id: requireString(block.id, `${path}.id`),
        name: requireString(block.name, `${path}.name`),
        arguments: JSON.stringify(block.input ?? {}),
      };
    default:
      return opaque(block);
  }
}

function toolResult(block: Json, path: string): ToolResultPart {
  const part: ToolResultPart = {
    type: 'tool_result',
    toolCallId: requireString(block.tool_use_id, `${path}.tool_use_id`),
    content: '',
  };
  if (typeof block.content === 'string') part.content = block.content;
  else if (Array.isArray(block.content)) {
    part.content = block.content.map((item, k) =>
      userPart(requireObject(item, `${path}.content[${k}]`), `${path}.content[${k}]`),
    );
  }
  if (block.is_error === true) part.isError = true;
  return part;
}

function decodeTools(raw: unknown[]): CanonicalTool[] {
  return raw.map((item, i) => {
    const path = `tools[${i}]`;
    const tool = requireObject(item, path);
    const name = requireString(tool.name, `${path}.name`);
    // Client tools have no type (or "custom"); every typed tool is one of Anthropic's own (web search…).
    if (tool.type !== undefined && tool.type !== null && tool.type !== 'custom') {
      return { name, builtin: { format: 'anthropic', definition: tool } };
    }
    const out: CanonicalTool = { name, parameters: requireObject(tool.input_schema, `${path}.input_schema`) };
    const description = optionalString(tool.description, `${path}.description`);
    if (description !== undefined) out.description = description;
    const strict = optionalBoolean(tool.strict, `${path}.strict`);
    if (strict !== undefined) out.strict = strict;
    return out;
  });
}

function decodeToolChoice(choice: Json): CanonicalToolChoice {
  switch (choice.type) {
    case 'auto':
      return 'auto';
    case 'any':
      return 'required';
    case 'none':
      return 'none';
    case 'tool':
      return { name: requireString(choice.name, 'tool_choice.name') };
    default:
      throw new InvalidRequestError(
        '`tool_choice.type` must be one of auto, any, tool, none',
        'tool_choice.type',
      );
  }
}

// ——— upstream: canonical → an Anthropic-format channel ———

export function encodeAnthropicUpstreamRequest(
  req: CanonicalRequest,
  upstreamModel: string,
): UpstreamRequest {
  const body: Json = sameFormatExtra(req, 'anthropic');
  body.model = upstreamModel;
  const messages = encodeMessages(req);
  let maxTokens = req.maxTokens ?? DEFAULT_MAX_TOKENS;
  const thinking = thinkingBudget(req, messages);
  if (thinking !== undefined) {
    // budget_tokens must be ≥ 1024 and below max_tokens, which counts thinking too. With no cap from the
    // client, room for the answer is added on top of the budget.
    if (req.maxTokens === undefined) maxTokens = thinking + DEFAULT_MAX_TOKENS;
    body.thinking = { type: 'enabled', budget_tokens: Math.min(thinking, maxTokens - 1) };
  }
  body.max_tokens = maxTokens;
  let system = combinedSystem(req);
  if (req.responseFormat?.type === 'json_object') {
    // Anthropic has no JSON mode without a schema; the instruction is the documented alternative.
    system = [system, 'Respond with a single valid JSON object and nothing else.']
      .filter(Boolean)
      .join('\n\n');
  }
  if (system) body.system = system;
  body.messages = messages;
  if (req.stream) body.stream = true;
  // Extended thinking rejects changed temperature/top_p/top_k, so they are only sent without it.
  if (thinking === undefined) {
    if (req.temperature !== undefined) body.temperature = req.temperature;
    if (req.topP !== undefined) body.top_p = req.topP;
    if (req.topK !== undefined) body.top_k = req.topK;
  }
  if (req.stop?.length) body.stop_sequences = req.stop;
  const tools = portableTools(req.tools, 'anthropic');
  if (tools.length > 0) {
    body.tools = tools.map((tool) => tool.builtin?.definition ?? encodeTool(tool));
    const choice = encodeToolChoice(req.toolChoice ?? 'auto');
    if (req.parallelToolCalls === false && choice.type !== 'none') choice.disable_parallel_tool_use = true;
    if (req.toolChoice !== undefined || choice.disable_parallel_tool_use) body.tool_choice = choice;
  }
  if (req.responseFormat?.type === 'json_schema') {
    body.output_config = {
      ...(isObject(body.output_config) ? body.output_config : {}),
      format: { type: 'json_schema', schema: req.responseFormat.schema },
    };
  }
  if (req.user !== undefined) body.metadata = { user_id: req.user };
  return { path: '/v1/messages', body, headers: { 'anthropic-version': ANTHROPIC_VERSION } };
}

/**
 * The thinking budget to send, or undefined for no thinking. Two Anthropic rules force it off: a forced
 * tool choice is not allowed with thinking, and while a tool loop is open (the last turn returns tool
 * results) the assistant turn that called the tools must start with its signed thinking block — which a
 * conversation that began in another format cannot have.
 */
function thinkingBudget(req: CanonicalRequest, messages: Json[]): number | undefined {
  if (!req.reasoning?.enabled) return undefined;
  if (req.toolChoice === 'required' || typeof req.toolChoice === 'object') return undefined;
  if (req.maxTokens !== undefined && req.maxTokens <= MIN_THINKING_BUDGET) return undefined;
  if (toolLoopWithoutThinking(messages)) return undefined;
  return Math.max(MIN_THINKING_BUDGET, reasoningBudget(req.reasoning));
}

function toolLoopWithoutThinking(messages: Json[]): boolean {
  const blocksOf = (m: Json | undefined): Json[] =>
    m && Array.isArray(m.content) ? (m.content as Json[]) : [];
  const last = messages[messages.length - 1];
  if (last?.role !== 'user' || !blocksOf(last).some((b) => b.type === 'tool_result')) return false;
  const first = blocksOf(messages[messages.length - 2])[0];
  return first?.type !== 'thinking' && first?.type !== 'redacted_thinking';
}

function encodeTool(tool: CanonicalTool): Json {
  const out: Json = { name: tool.name };
  if (tool.description !== undefined) out.description = tool.description;
  out.input_schema = tool.parameters ?? { type: 'object', properties: {} };
  if (tool.strict !== undefined) out.strict = tool.strict;
  return out;
}

function encodeToolChoice(choice: CanonicalToolChoice): Json {
  if (typeof choice === 'object') return { type: 'tool', name: choice.name };
  return { type: choice === 'required' ? 'any' : choice };
}

/** Anthropic tool ids must match ^[a-zA-Z0-9_-]+$; other providers' ids (e.g. `functions.get:0`) may not. */
export function anthropicToolId(id: string): string {
  return id.replace(/[^a-zA-Z0-9_-]/g, '_') || 'toolu_unnamed';
}

function encodeMessages(req: CanonicalRequest): Json[] {
  const out: Json[] = [];
  req.messages.forEach((message, i) => {
    const path = `messages[${i}]`;
    if (message.role === 'system') return; // folded into `system`
    if (message.role === 'assistant') append(out, 'assistant', assistantBlocks(message.content));
    else if (message.role === 'tool') append(out, 'user', toolResultBlocks(message.content, path));
    else
      append(
        out,
        'user',
        message.content.flatMap((part, j) => userBlock(part, `${path}.content[${j}]`)),
      );
  });
  return out;
}

/** Consecutive turns of one role are merged, tool results first, as Anthropic requires. */
function append(out: Json[], role: 'user' | 'assistant', blocks: Json[]): void {
  if (blocks.length === 0) return;
  const last = out[out.length - 1];
  if (!last || last.role !== role) {
    out.push({ role, content: blocks });
    return;
  }
  const merged = [...(last.content as Json[]), ...blocks];
  last.content =
    role === 'user'
      ? [...merged.filter((b) => b.type === 'tool_result'), ...merged.filter((b) => b.type !== 'tool_result')]
      : merged;
}

function userBlock(part: CanonicalPart, path: string): Json[] {
  switch (part.type) {
    case 'text':
      return part.text ? [{ type: 'text', text: part.text }] : []; // Anthropic rejects empty text blocks
    case 'image':
      return [
        {
          type: 'image',
          source:
            part.source.kind === 'url'
              ? { type: 'url', url: part.source.url }
              : { type: 'base64', media_type: part.source.mediaType, data: part.source.data },
        },
      ];
    case 'opaque':
      if (part.format !== 'anthropic') throw foreignPartError(part, 'anthropic', path);
      return [part.value as Json];
    default:
      return [];
  }
}

function assistantBlocks(parts: CanonicalPart[]): Json[] {
  const blocks: Json[] = [];
  for (const part of parts) {
    if (part.type === 'reasoning') {
      // Unsigned or foreign-signed thinking would be rejected; it is context the model no longer needs.
      if (part.signature?.format === 'anthropic') {
        blocks.push({ type: 'thinking', thinking: part.text, signature: part.signature.value });
      }
    } else if (part.type === 'text') {
      if (part.text) blocks.push({ type: 'text', text: part.text });
    } else if (part.type === 'tool_call') {
      blocks.push({
        type: 'tool_use',
        id: anthropicToolId(part.id),
        name: part.name,
        input: parseArgumentsObject(part.arguments),
      });
    } else if (part.type === 'opaque' && part.format === 'anthropic') {
      blocks.push(part.value as Json);
    }
  }
  return blocks;
}

function toolResultBlocks(parts: CanonicalPart[], path: string): Json[] {
  return parts.flatMap((part, j): Json[] => {
    if (part.type !== 'tool_result') return [];
    const block: Json = { type: 'tool_result', tool_use_id: anthropicToolId(part.toolCallId) };
    block.content =
      typeof part.content === 'string'
        ? part.content
        : part.content.flatMap((p, k) => userBlock(p, `${path}.content[${j}].content[${k}]`));
    if (part.isError) block.is_error = true;
    return [block];
  });
}
