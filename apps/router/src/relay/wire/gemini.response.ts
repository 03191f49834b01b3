// Gemini GenerateContentResponse bodies, usage metadata and errors, both as the gateway's answer to a
// Gemini client and as what a Gemini-format channel answers the gateway.

import {
  type CanonicalOutputPart,
  type CanonicalResponse,
  type CanonicalUsage,
  type StopReason,
  totalInputTokens,
} from '../canonical';
import { UpstreamProtocolError } from '../relay.errors';
import { isObject, type Json, num, parseArgumentsObject, shortHash, str } from './fields';
import { fallbackErrorMessage, parseErrorBody } from './upstream-errors';
import type { EncodeResponseOptions, GatewayError, UpstreamError } from './wire-adapter';

/**
 * `promptTokenCount` includes `cachedContentTokenCount` but not `toolUsePromptTokenCount` (the results
 * of built-in tools, billed as input); `candidatesTokenCount` excludes `thoughtsTokenCount`. So:
 * totalTokenCount = inputTokens + cacheReadTokens + outputTokens. Gemini bills cache storage by time,
 * not by write, so there is no cache-write bucket.
 */
export function geminiUsageToCanonical(usage: unknown): CanonicalUsage | undefined {
  if (!isObject(usage)) return undefined;
  const prompt = num(usage.promptTokenCount);
  const cached = Math.min(prompt, num(usage.cachedContentTokenCount));
  const thoughts = num(usage.thoughtsTokenCount);
  return {
    inputTokens: prompt - cached + num(usage.toolUsePromptTokenCount),
    outputTokens: num(usage.candidatesTokenCount) + thoughts,
    cacheReadTokens: cached,
    cacheWrite5mTokens: 0,
    cacheWrite1hTokens: 0,
    reasoningTokens: thoughts,
  };
}

export function canonicalToGeminiUsage(usage: CanonicalUsage, costUsd?: number): Json {
  const prompt = totalInputTokens(usage);
  const out: Json = {
    promptTokenCount: prompt,
    candidatesTokenCount: usage.outputTokens - usage.reasoningTokens,
    totalTokenCount: prompt + usage.outputTokens,
  };
  if (usage.cacheReadTokens > 0) out.cachedContentTokenCount = usage.cacheReadTokens;
  if (usage.reasoningTokens > 0) out.thoughtsTokenCount = usage.reasoningTokens;
  if (costUsd !== undefined) out.cost = costUsd;
  return out;
}

const FILTERED = new Set([
  'SAFETY',
  'RECITATION',
  'BLOCKLIST',
  'PROHIBITED_CONTENT',
  'SPII',
  'IMAGE_SAFETY',
  'IMAGE_PROHIBITED_CONTENT',
  'IMAGE_RECITATION',
]);
const FAILED = new Set([
  'MALFORMED_FUNCTION_CALL',
  'UNEXPECTED_TOOL_CALL',
  'TOO_MANY_TOOL_CALLS',
  'OTHER',
  'LANGUAGE',
]);

export function geminiFinishToStopReason(reason: unknown, sawToolCall: boolean): StopReason {
  if (reason === 'MAX_TOKENS') return 'max_tokens';
  if (typeof reason === 'string' && FILTERED.has(reason)) return 'content_filter';
  if (typeof reason === 'string' && FAILED.has(reason)) return 'error';
  // Gemini finishes a function-calling turn with STOP.
  return sawToolCall ? 'tool_use' : 'end_turn';
}

export function stopReasonToGeminiFinish(reason: StopReason): string {
  switch (reason) {
    case 'max_tokens':
      return 'MAX_TOKENS';
    case 'content_filter':
      return 'SAFETY';
    case 'error':
      return 'OTHER';
    default:
      return 'STOP';
  }
}

/** Parts of a candidate, as canonical output. `idPrefix` makes generated tool-call ids unique per response. */
export function geminiPartsToCanonical(
  parts: unknown,
  idPrefix: string,
  firstIndex = 0,
): CanonicalOutputPart[] {
  if (!Array.isArray(parts)) return [];
  const out: CanonicalOutputPart[] = [];
  let calls = firstIndex;
  for (const part of parts) {
    if (!isObject(part)) continue;
    const signature = str(part.thoughtSignature);
    const call = part.functionCall;
    if (isObject(call)) {
      const toolCall: CanonicalOutputPart = {
        type: 'tool_call',
        id: str(call.id) || `${idPrefix}_${calls}`,
        name: str(call.name) ?? '',
        arguments: JSON.stringify(call.args ?? {}),
      };
      if (signature) toolCall.signature = { format: 'gemini', value: signature };
      calls++;
      out.push(toolCall);
    } else if (typeof part.text === 'string' && part.text) {
      if (part.thought === true) {
        const reasoning: CanonicalOutputPart = { type: 'reasoning', text: part.text };
        if (signature) reasoning.signature = { format: 'gemini', value: signature };
        out.push(reasoning);
      } else out.push({ type: 'text', text: part.text });
    }
  }
  return out;
}

/** Gemini leaves function calls without ids; generated ones must not repeat across turns. */
export function toolCallIdPrefix(responseId: string | undefined, fallbackSeed: string): string {
  return `call_${responseId ?? shortHash(fallbackSeed)}`;
}

export function encodeGeminiResponse(res: CanonicalResponse, opts: EncodeResponseOptions = {}): Json {
  const parts = res.content.map((part): Json => {
    if (part.type === 'text') return { text: part.text };
    if (part.type === 'reasoning') {
      const out: Json = { text: part.text, thought: true };
      if (part.signature?.format === 'gemini') out.thoughtSignature = part.signature.value;
      return out;
    }
    const out: Json = {
      functionCall: { id: part.id, name: part.name, args: parseArgumentsObject(part.arguments) },
    };
    if (part.signature?.format === 'gemini') out.thoughtSignature = part.signature.value;
    return out;
  });
  const body: Json = {
    candidates: [
      {
        content: { role: 'model', parts: parts.length > 0 ? parts : [{ text: '' }] },
        finishReason: stopReasonToGeminiFinish(res.stopReason),
        index: 0,
      },
    ],
  };
  if (res.usage) body.usageMetadata = canonicalToGeminiUsage(res.usage, opts.costUsd);
  body.modelVersion = res.model;
  body.responseId = res.id;
  return body;
}

export function decodeGeminiResponse(json: unknown): CanonicalResponse {
  if (!isObject(json)) throw new UpstreamProtocolError('the Gemini-format response is not a JSON object');
  const candidate = Array.isArray(json.candidates) ? json.candidates[0] : undefined;
  const blocked = isObject(json.promptFeedback) && json.promptFeedback.blockReason !== undefined;
  if (!isObject(candidate) && !blocked)
    throw new UpstreamProtocolError('the Gemini-format response has no candidates');
  const responseId = str(json.responseId);
  const content = isObject(candidate) && isObject(candidate.content) ? candidate.content.parts : undefined;
  const parts = geminiPartsToCanonical(
    content,
    toolCallIdPrefix(responseId, JSON.stringify(content ?? null)),
  );
  const res: CanonicalResponse = {
    id: responseId ?? '',
    model: str(json.modelVersion) ?? '',
    content: parts,
    stopReason: isObject(candidate)
      ? geminiFinishToStopReason(
          candidate.finishReason,
          parts.some((p) => p.type === 'tool_call'),
        )
      : 'content_filter',
  };
  const usage = geminiUsageToCanonical(json.usageMetadata);
  if (usage) res.usage = usage;
  return res;
}

/** google.rpc.Code names for the HTTP statuses the gateway answers with. */
export function geminiStatusName(status: number): string {
  switch (status) {
    case 400:
    case 413: // Google has no "payload too large" code; the request is what is wrong
    case 422:
      return 'INVALID_ARGUMENT';
    case 401:
      return 'UNAUTHENTICATED';
    case 402: // Google uses FAILED_PRECONDITION when billing must be enabled first
      return 'FAILED_PRECONDITION';
    case 403:
      return 'PERMISSION_DENIED';
    case 404:
      return 'NOT_FOUND';
    case 408:
    case 504:
      return 'DEADLINE_EXCEEDED';
    case 409:
      return 'ABORTED';
    case 429:
      return 'RESOURCE_EXHAUSTED';
    case 499:
      return 'CANCELLED';
    case 501:
      return 'UNIMPLEMENTED';
    case 502:
    case 503:
    case 529:
      return 'UNAVAILABLE';
    default:
      return status >= 500 ? 'INTERNAL' : 'FAILED_PRECONDITION';
  }
}

/** Gemini's envelope has no field for our code, so it leads the message: `[rate_limited] …`. */
export function encodeGeminiError(err: GatewayError): Json {
  return {
    error: {
      code: err.status,
      message: `[${err.code}] ${err.message}`,
      status: geminiStatusName(err.status),
    },
  };
}

export function decodeGeminiError(status: number, bodyText: string): UpstreamError {
  let body = parseErrorBody(bodyText);
  // The streaming endpoint without alt=sse wraps the error in an array.
  if (Array.isArray(body)) body = body[0];
  const error = isObject(body) ? body.error : undefined;
  if (isObject(error)) {
    return {
      type: str(error.status) ?? geminiStatusName(num(error.code) || status),
      message: str(error.message) ?? fallbackErrorMessage(status, bodyText),
    };
  }
  return { type: geminiStatusName(status), message: fallbackErrorMessage(status, bodyText) };
}

/** The HTTP status of a google.rpc status name, for errors that arrive inside a stream. */
export function geminiStatusToHttp(name: string): number {
  const statuses: Record<string, number> = {
    INVALID_ARGUMENT: 400,
    FAILED_PRECONDITION: 400,
    UNAUTHENTICATED: 401,
    PERMISSION_DENIED: 403,
    NOT_FOUND: 404,
    RESOURCE_EXHAUSTED: 429,
    CANCELLED: 499,
    INTERNAL: 500,
    UNAVAILABLE: 503,
    DEADLINE_EXCEEDED: 504,
  };
  return statuses[name] ?? 502;
}
