// Gemini generateContent requests: decoding what a customer's Google Gen AI SDK sends to
// `/v1beta/models/{model}:generateContent` (or `:streamGenerateContent`), and encoding the body the gateway
// sends to a Gemini-format channel.

import type {
  CanonicalMessage,
  CanonicalPart,
  CanonicalRequest,
  CanonicalTool,
  CanonicalToolChoice,
  ImagePart,
  OpaquePart,
  ToolResultPart,
} from '../canonical';
import { InvalidRequestError } from '../relay.errors';
import {
  isObject,
  type Json,
  optionalInteger,
  optionalNumber,
  optionalString,
  optionalStringList,
  parseArgumentsObject,
  requireArray,
  requireObject,
  requireString,
} from './fields';
import { combinedSystem, foreignPartError, portableTools, sameFormatExtra } from './portability';
import { parseEffort, reasoningBudget } from './reasoning';
import type { DecodeContext, UpstreamRequest } from './wire-adapter';

/**
 * Gemini's REST API accepts proto field names in lowerCamelCase and in snake_case; the SDKs send camel,
 * hand-written clients often snake.
 */
export function field(o: Json, camel: string): unknown {
  const value = o[camel];
  return value !== undefined ? value : o[snakeCase(camel)];
}

function snakeCase(camel: string): string {
  return camel.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
}

function isKnown(key: string, known: readonly string[]): boolean {
  return known.some((k) => k === key || snakeCase(k) === key);
}

const KNOWN_TOP = ['contents', 'systemInstruction', 'tools', 'toolConfig', 'generationConfig'];
const KNOWN_GENERATION = [
  'maxOutputTokens',
  'temperature',
  'topP',
  'topK',
  'seed',
  'stopSequences',
  'responseMimeType',
  'responseSchema',
  'responseJsonSchema',
  'thinkingConfig',
];

/** Google documents this value for replaying a function call whose thought signature was lost. */
export const SKIP_THOUGHT_SIGNATURE = 'skip_thought_signature_validator';

export function decodeGeminiRequest(body: unknown, ctx: DecodeContext = {}): CanonicalRequest {
  const b = requireObject(body, 'body');
  const model = (ctx.modelFromPath ?? optionalString(b.model, 'model'))?.replace(/^models\//, '');
  if (!model)
    throw new InvalidRequestError(
      'the model is required in the path: /v1beta/models/{model}:generateContent',
      'model',
    );
  const contents = requireArray(field(b, 'contents'), 'contents');
  if (contents.length === 0) throw new InvalidRequestError('`contents` must not be empty', 'contents');

  const req: CanonicalRequest = {
    model,
    messages: decodeContents(contents),
    stream: ctx.streamFromPath ?? false,
  };
  const system = field(b, 'systemInstruction');
  if (system !== undefined && system !== null) {
    const text = decodeSystem(system);
    if (text) req.system = text;
  }
  const tools = field(b, 'tools');
  if (tools !== undefined && tools !== null) req.tools = decodeTools(requireArray(tools, 'tools'));
  const toolConfig = field(b, 'toolConfig');
  if (isObject(toolConfig) && isObject(field(toolConfig, 'functionCallingConfig'))) {
    req.toolChoice = decodeToolChoice(field(toolConfig, 'functionCallingConfig') as Json);
  }
  const extra: Json = {};
  const generation = field(b, 'generationConfig');
  if (generation !== undefined && generation !== null) {
    const unknown = decodeGenerationConfig(requireObject(generation, 'generationConfig'), req);
    if (unknown) extra.generationConfig = unknown;
  }
  for (const key of Object.keys(b)) {
    if (key !== 'model' && !isKnown(key, KNOWN_TOP)) extra[key] = b[key];
  }
  if (Object.keys(extra).length > 0) req.extra = { format: 'gemini', params: extra };
  return req;
}

function decodeSystem(value: unknown): string {
  if (typeof value === 'string') return value;
  const content = requireObject(value, 'systemInstruction');
  return requireArray(content.parts, 'systemInstruction.parts')
    .map((part, i) =>
      requireString(
        requireObject(part, `systemInstruction.parts[${i}]`).text,
        `systemInstruction.parts[${i}].text`,
      ),
    )
    .join('\n');
}

function decodeContents(raw: unknown[]): CanonicalMessage[] {
  const messages: CanonicalMessage[] = [];
  // Gemini may omit function call ids; responses are matched to calls by name, oldest first.
  const openCalls = new Map<string, string[]>();
  raw.forEach((item, i) => {
    const path = `contents[${i}]`;
    const content = requireObject(item, path);
    const role = content.role ?? 'user';
    const parts = requireArray(content.parts, `${path}.parts`).map((p, j) =>
      requireObject(p, `${path}.parts[${j}]`),
    );
    if (role === 'model') {
      messages.push({
        role: 'assistant',
        content: parts.map((part, j) => modelPart(part, `${path}.parts[${j}]`, `call_${i}_${j}`, openCalls)),
      });
      return;
    }
    if (role !== 'user' && role !== 'function') {
      throw new InvalidRequestError(`\`${path}.role\` must be "user" or "model"`, `${path}.role`);
    }
    const results: ToolResultPart[] = [];
    const rest: CanonicalPart[] = [];
    parts.forEach((part, j) => {
      const response = field(part, 'functionResponse');
      if (isObject(response)) results.push(functionResponse(response, `${path}.parts[${j}]`, openCalls));
      else rest.push(userPart(part, `${path}.parts[${j}]`));
    });
    if (results.length > 0) messages.push({ role: 'tool', content: results });
    if (rest.length > 0 || results.length === 0) messages.push({ role: 'user', content: rest });
  });
  return messages;
}

function opaque(part: Json): OpaquePart {
  const kind = Object.keys(part).find((k) => k !== 'thoughtSignature' && k !== 'thought_signature') ?? 'part';
  return { type: 'opaque', format: 'gemini', kind, value: part };
}

function userPart(part: Json, path: string): CanonicalPart {
  if (typeof part.text === 'string') return { type: 'text', text: part.text };
  const inline = field(part, 'inlineData');
  if (isObject(inline)) {
    const mediaType = requireString(field(inline, 'mimeType'), `${path}.inlineData.mimeType`);
    if (mediaType.startsWith('image/')) {
      return {
        type: 'image',
        source: { kind: 'base64', mediaType, data: requireString(inline.data, `${path}.inlineData.data`) },
      };
    }
  }
  const file = field(part, 'fileData');
  const fileType = isObject(file) ? field(file, 'mimeType') : undefined;
  if (isObject(file) && typeof fileType === 'string' && fileType.startsWith('image/')) {
    return {
      type: 'image',
      source: { kind: 'url', url: requireString(field(file, 'fileUri'), `${path}.fileData.fileUri`) },
    };
  }
  return opaque(part);
}

function modelPart(
  part: Json,
  path: string,
  fallbackId: string,
  openCalls: Map<string, string[]>,
): CanonicalPart {
  const signature = field(part, 'thoughtSignature');
  const signed =
    typeof signature === 'string' && signature ? { format: 'gemini' as const, value: signature } : undefined;
  const call = field(part, 'functionCall');
  if (isObject(call)) {
    const name = requireString(call.name, `${path}.functionCall.name`);
    const id = typeof call.id === 'string' && call.id ? call.id : fallbackId;
    openCalls.set(name, [...(openCalls.get(name) ?? []), id]);
    return {
      type: 'tool_call',
      id,
      name,
      arguments: JSON.stringify(call.args ?? {}),
      ...(signed ? { signature: signed } : {}),
    };
  }
  if (typeof part.text === 'string') {
    if (part.thought === true)
      return { type: 'reasoning', text: part.text, ...(signed ? { signature: signed } : {}) };
    return { type: 'text', text: part.text };
  }
  return opaque(part);
}

function functionResponse(response: Json, path: string, openCalls: Map<string, string[]>): ToolResultPart {
  const name = requireString(response.name, `${path}.functionResponse.name`);
  const pending = openCalls.get(name) ?? [];
  let id = typeof response.id === 'string' && response.id ? response.id : pending[0];
  if (id && pending.includes(id)) pending.splice(pending.indexOf(id), 1);
  id ??= `call_${name}`;
  const payload = response.response;
  // Gemini documents `output` for the result and `error` for a failure; anything else is the result itself.
  const result: ToolResultPart = { type: 'tool_result', toolCallId: id, content: '' };
  if (
    isObject(payload) &&
    Object.keys(payload).length === 1 &&
    typeof (payload.output ?? payload.error) === 'string'
  ) {
    result.content = String(payload.output ?? payload.error);
    if (payload.error !== undefined) result.isError = true;
  } else {
    result.content = JSON.stringify(payload ?? {});
  }
  return result;
}

function decodeTools(raw: unknown[]): CanonicalTool[] {
  const tools: CanonicalTool[] = [];
  raw.forEach((item, i) => {
    const tool = requireObject(item, `tools[${i}]`);
    for (const [key, value] of Object.entries(tool)) {
      if (key !== 'functionDeclarations' && key !== 'function_declarations') {
        tools.push({ name: key, builtin: { format: 'gemini', definition: { [key]: value } } });
        continue;
      }
      requireArray(value, `tools[${i}].functionDeclarations`).forEach((decl, j) => {
        const path = `tools[${i}].functionDeclarations[${j}]`;
        const d = requireObject(decl, path);
        const out: CanonicalTool = { name: requireString(d.name, `${path}.name`) };
        const description = optionalString(d.description, `${path}.description`);
        if (description !== undefined) out.description = description;
        const jsonSchema = field(d, 'parametersJsonSchema');
        if (isObject(jsonSchema)) out.parameters = jsonSchema;
        else if (isObject(d.parameters)) out.parameters = openApiToJsonSchema(d.parameters) as Json;
        tools.push(out);
      });
    }
  });
  return tools;
}

/**
 * Gemini's `Schema` is an OpenAPI 3.0 subset with upper-case type names and `nullable`; other providers
 * want JSON Schema. Only the differences are rewritten.
 */
export function openApiToJsonSchema(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(openApiToJsonSchema);
  if (!isObject(schema)) return schema;
  const out: Json = {};
  for (const [key, value] of Object.entries(schema)) {
    if (key === 'nullable' || key === 'propertyOrdering') continue;
    if (key === 'type' && typeof value === 'string') out.type = value.toLowerCase();
    else if (key === 'properties' && isObject(value)) {
      out.properties = Object.fromEntries(Object.entries(value).map(([k, v]) => [k, openApiToJsonSchema(v)]));
    } else if (key === 'items' || key === 'anyOf') out[key] = openApiToJsonSchema(value);
    else out[key] = value;
  }
  if (schema.nullable === true && typeof out.type === 'string') out.type = [out.type, 'null'];
  return out;
}

function decodeToolChoice(config: Json): CanonicalToolChoice {
  const names = field(config, 'allowedFunctionNames');
  switch (config.mode) {
    case 'NONE':
      return 'none';
    case 'ANY':
      return Array.isArray(names) && names.length === 1 && typeof names[0] === 'string'
        ? { name: names[0] }
        : 'required';
    default:
      return 'auto'; // AUTO, VALIDATED, MODE_UNSPECIFIED
  }
}

/** Reads the known generation settings into `req`; returns the unknown ones for the passthrough bag. */
function decodeGenerationConfig(config: Json, req: CanonicalRequest): Json | undefined {
  const path = 'generationConfig';
  const maxTokens = optionalInteger(field(config, 'maxOutputTokens'), `${path}.maxOutputTokens`);
  if (maxTokens !== undefined) req.maxTokens = maxTokens;
  const temperature = optionalNumber(config.temperature, `${path}.temperature`);
  if (temperature !== undefined) req.temperature = temperature;
  const topP = optionalNumber(field(config, 'topP'), `${path}.topP`);
  if (topP !== undefined) req.topP = topP;
  const topK = optionalNumber(field(config, 'topK'), `${path}.topK`);
  if (topK !== undefined) req.topK = topK;
  const seed = optionalNumber(config.seed, `${path}.seed`);
  if (seed !== undefined) req.seed = seed;
  const stop = optionalStringList(field(config, 'stopSequences'), `${path}.stopSequences`);
  if (stop) req.stop = stop;
  if (field(config, 'responseMimeType') === 'application/json') {
    const jsonSchema = field(config, 'responseJsonSchema');
    const schema = field(config, 'responseSchema');
    if (isObject(jsonSchema)) req.responseFormat = { type: 'json_schema', schema: jsonSchema };
    else if (isObject(schema))
      req.responseFormat = { type: 'json_schema', schema: openApiToJsonSchema(schema) };
    else req.responseFormat = { type: 'json_object' };
  }
  const thinking = field(config, 'thinkingConfig');
  if (isObject(thinking)) {
    const budget = optionalNumber(field(thinking, 'thinkingBudget'), `${path}.thinkingConfig.thinkingBudget`);
    const level = field(thinking, 'thinkingLevel');
    const effort = typeof level === 'string' ? parseEffort(level) : undefined;
    if (budget === 0) req.reasoning = { enabled: false };
    else if (budget !== undefined || effort || field(thinking, 'includeThoughts') === true) {
      req.reasoning = { enabled: true };
      if (budget !== undefined && budget > 0) req.reasoning.budgetTokens = budget;
      if (effort) req.reasoning.effort = effort;
    }
  }
  let unknown: Json | undefined;
  for (const key of Object.keys(config)) {
    if (!isKnown(key, KNOWN_GENERATION)) (unknown ??= {})[key] = config[key];
  }
  return unknown;
}

// ——— upstream: canonical → a Gemini-format channel ———

export function encodeGeminiUpstreamRequest(req: CanonicalRequest, upstreamModel: string): UpstreamRequest {
  const model = upstreamModel.replace(/^models\//, '');
  const { generationConfig: extraGeneration, ...extra } = sameFormatExtra(req, 'gemini');
  const body: Json = extra;
  body.contents = encodeContents(req, model);
  const system = combinedSystem(req);
  if (system) body.systemInstruction = { parts: [{ text: system }] };
  const tools = portableTools(req.tools, 'gemini');
  if (tools.length > 0) {
    const declarations = tools.filter((t) => !t.builtin).map(encodeDeclaration);
    body.tools = [
      ...(declarations.length > 0 ? [{ functionDeclarations: declarations }] : []),
      ...tools.flatMap((t) => (t.builtin ? [t.builtin.definition] : [])),
    ];
    if (req.toolChoice !== undefined)
      body.toolConfig = { functionCallingConfig: encodeToolChoice(req.toolChoice) };
  }
  const generation: Json = isObject(extraGeneration) ? { ...extraGeneration } : {};
  if (req.maxTokens !== undefined) generation.maxOutputTokens = req.maxTokens;
  if (req.temperature !== undefined) generation.temperature = req.temperature;
  if (req.topP !== undefined) generation.topP = req.topP;
  if (req.topK !== undefined) generation.topK = req.topK;
  if (req.seed !== undefined) generation.seed = req.seed;
  if (req.stop?.length) generation.stopSequences = req.stop;
  if (req.responseFormat && req.responseFormat.type !== 'text') {
    generation.responseMimeType = 'application/json';
    if (req.responseFormat.type === 'json_schema') generation.responseJsonSchema = req.responseFormat.schema;
  }
  // thinkingBudget works on 2.5 and 3.x models alike (thinkingLevel is 3.x only). Reasoning that was
  // not asked for is left to the model's default: budget 0 is rejected by models that always think.
  if (req.reasoning?.enabled)
    generation.thinkingConfig = { includeThoughts: true, thinkingBudget: reasoningBudget(req.reasoning) };
  if (Object.keys(generation).length > 0) body.generationConfig = generation;
  const method = req.stream ? 'streamGenerateContent?alt=sse' : 'generateContent';
  return { path: `/v1beta/models/${encodeURIComponent(model)}:${method}`, body };
}

function encodeDeclaration(tool: CanonicalTool): Json {
  const out: Json = { name: tool.name };
  if (tool.description !== undefined) out.description = tool.description;
  // JSON Schema as is: `parameters` would need a lossy conversion to Gemini's OpenAPI subset.
  if (tool.parameters) out.parametersJsonSchema = tool.parameters;
  return out;
}

function encodeToolChoice(choice: CanonicalToolChoice): Json {
  if (typeof choice === 'object') return { mode: 'ANY', allowedFunctionNames: [choice.name] };
  return { mode: choice === 'required' ? 'ANY' : choice === 'none' ? 'NONE' : 'AUTO' };
}

/** Gemini 3 and later reject replayed function calls that carry no thought signature. */
function requiresThoughtSignatures(model: string): boolean {
  const major = /^gemini-(\d+)/.exec(model)?.[1];
  return major !== undefined && Number(major) >= 3;
}

function encodeContents(req: CanonicalRequest, model: string): Json[] {
  const out: Json[] = [];
  const toolNames = new Map<string, string>();
  const signatures = requiresThoughtSignatures(model);
  req.messages.forEach((message, i) => {
    const path = `messages[${i}]`;
    switch (message.role) {
      case 'system':
        return; // folded into systemInstruction
      case 'assistant': {
        const parts: Json[] = [];
        let signed = false;
        for (const part of message.content) {
          if (part.type === 'tool_call') {
            toolNames.set(part.id, part.name);
            const fc: Json = {
              functionCall: { id: part.id, name: part.name, args: parseArgumentsObject(part.arguments) },
            };
            // Only the first call of a parallel batch carries a signature, so only a first one is filled in.
            if (part.signature?.format === 'gemini') fc.thoughtSignature = part.signature.value;
            else if (signatures && !signed) fc.thoughtSignature = SKIP_THOUGHT_SIGNATURE;
            signed ||= fc.thoughtSignature !== undefined;
            parts.push(fc);
          } else if (part.type === 'text') {
            if (part.text) parts.push({ text: part.text });
          } else if (part.type === 'reasoning') {
            if (part.signature?.format === 'gemini')
              parts.push({ text: part.text, thought: true, thoughtSignature: part.signature.value });
          } else if (part.type === 'opaque' && part.format === 'gemini') {
            parts.push(part.value as Json);
          }
        }
        return append(out, 'model', parts);
      }
      case 'tool':
        return append(
          out,
          'user',
          message.content.flatMap((part, j) =>
            part.type === 'tool_result'
              ? functionResponseParts(part, toolNames, `${path}.content[${j}]`)
              : [],
          ),
        );
      case 'user':
        return append(
          out,
          'user',
          message.content.flatMap((part, j) => userParts(part, `${path}.content[${j}]`)),
        );
    }
  });
  return out;
}

function append(out: Json[], role: 'user' | 'model', parts: Json[]): void {
  if (parts.length === 0) return;
  const last = out[out.length - 1];
  if (last && last.role === role) (last.parts as Json[]).push(...parts);
  else out.push({ role, parts });
}

function userParts(part: CanonicalPart, path: string): Json[] {
  switch (part.type) {
    case 'text':
      return part.text ? [{ text: part.text }] : [];
    case 'image':
      return [imagePart(part)];
    case 'opaque':
      if (part.format !== 'gemini') throw foreignPartError(part, 'gemini', path);
      return [part.value as Json];
    default:
      return [];
  }
}

function imagePart(part: ImagePart): Json {
  if (part.source.kind === 'base64')
    return { inlineData: { mimeType: part.source.mediaType, data: part.source.data } };
  return { fileData: { mimeType: guessImageType(part.source.url), fileUri: part.source.url } };
}

function guessImageType(url: string): string {
  const ext = /\.(png|gif|webp|heic|heif|jpe?g)(?:[?#]|$)/i.exec(url)?.[1]?.toLowerCase();
  if (!ext || ext === 'jpg' || ext === 'jpeg') return 'image/jpeg';
  return `image/${ext}`;
}

function functionResponseParts(part: ToolResultPart, toolNames: Map<string, string>, path: string): Json[] {
  const texts: string[] = [];
  const media: Json[] = [];
  if (typeof part.content === 'string') texts.push(part.content);
  else
    part.content.forEach((p, k) => {
      if (p.type === 'text') texts.push(p.text);
      else media.push(...userParts(p, `${path}.content[${k}]`));
    });
  const text = texts.join('\n');
  const response = {
    functionResponse: {
      id: part.toolCallId,
      // Gemini matches a response to its call by name; other formats only keep the id.
      name: toolNames.get(part.toolCallId) ?? part.toolCallId,
      response: part.isError ? { error: text } : { output: text },
    },
  };
  // Images a tool returned go next to its response, which every Gemini version accepts.
  return [response, ...media];
}
