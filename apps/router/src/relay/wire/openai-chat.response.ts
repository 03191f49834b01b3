// OpenAI Chat Completions responses, usage and errors, both as the gateway's answer to an OpenAI client
// and as what an OpenAI-format channel answers the gateway.

import {
  type CanonicalOutputPart,
  type CanonicalResponse,
  type CanonicalUsage,
  type StopReason,
  totalInputTokens,
} from '../canonical';
import { UpstreamProtocolError } from '../relay.errors';
import { isObject, type Json, num, str } from './fields';
import { errorTypeForStatus, fallbackErrorMessage, parseErrorBody } from './upstream-errors';
import type { EncodeResponseOptions, GatewayError, UpstreamError } from './wire-adapter';

/**
 * `prompt_tokens` includes `prompt_tokens_details.cached_tokens`; `completion_tokens` includes
 * `completion_tokens_details.reasoning_tokens`. Two compatible-server quirks are handled: DeepSeek reports
 * cache hits as `prompt_cache_hit_tokens`, and some servers leave reasoning out of `completion_tokens`,
 * which shows as `total_tokens = prompt + completion + reasoning`.
 */
export function openAiUsageToCanonical(usage: unknown): CanonicalUsage | undefined {
  if (!isObject(usage)) return undefined;
  const prompt = num(usage.prompt_tokens);
  const promptDetails = isObject(usage.prompt_tokens_details) ? usage.prompt_tokens_details : {};
  const cached = Math.min(prompt, num(promptDetails.cached_tokens) || num(usage.prompt_cache_hit_tokens));
  const completionDetails = isObject(usage.completion_tokens_details) ? usage.completion_tokens_details : {};
  const reasoning = num(completionDetails.reasoning_tokens);
  let output = num(usage.completion_tokens);
  if (reasoning > 0 && num(usage.total_tokens) === prompt + output + reasoning) output += reasoning;
  return {
    inputTokens: prompt - cached,
    outputTokens: output,
    cacheReadTokens: cached,
    cacheWrite5mTokens: 0,
    cacheWrite1hTokens: 0,
    reasoningTokens: Math.min(reasoning, output),
  };
}

/** OpenAI has no cache-write bucket: written tokens are reported as ordinary prompt tokens. */
export function canonicalToOpenAiUsage(usage: CanonicalUsage, costUsd?: number): Json {
  const prompt = totalInputTokens(usage);
  const out: Json = {
    prompt_tokens: prompt,
    completion_tokens: usage.outputTokens,
    total_tokens: prompt + usage.outputTokens,
    prompt_tokens_details: { cached_tokens: usage.cacheReadTokens },
    completion_tokens_details: { reasoning_tokens: usage.reasoningTokens },
  };
  if (costUsd !== undefined) out.cost = costUsd;
  return out;
}

export function openAiFinishToStopReason(reason: unknown, sawToolCall: boolean): StopReason {
  switch (reason) {
    case 'length':
      return 'max_tokens';
    case 'tool_calls':
    case 'function_call':
      return 'tool_use';
    case 'content_filter':
      return 'content_filter';
    default:
      // Some compatible servers finish a tool-calling turn with "stop".
      return sawToolCall ? 'tool_use' : 'end_turn';
  }
}

export function stopReasonToOpenAiFinish(reason: StopReason): string {
  switch (reason) {
    case 'max_tokens':
      return 'length';
    case 'tool_use':
      return 'tool_calls';
    case 'content_filter':
      return 'content_filter';
    default:
      return 'stop';
  }
}

export function encodeOpenAiResponse(res: CanonicalResponse, opts: EncodeResponseOptions = {}): Json {
  let text = '';
  let reasoning = '';
  const toolCalls: Json[] = [];
  for (const part of res.content) {
    if (part.type === 'text') text += part.text;
    else if (part.type === 'reasoning') reasoning += part.text;
    else
      toolCalls.push({
        id: part.id,
        type: 'function',
        function: { name: part.name, arguments: part.arguments },
      });
  }
  const message: Json = { role: 'assistant', content: text || (toolCalls.length > 0 ? null : '') };
  // Chat Completions has no reasoning field; `reasoning_content` is the de-facto one (DeepSeek, vLLM).
  if (reasoning) message.reasoning_content = reasoning;
  if (toolCalls.length > 0) message.tool_calls = toolCalls;
  const body: Json = {
    id: res.id,
    object: 'chat.completion',
    created: res.created ?? Math.floor(Date.now() / 1000),
    model: res.model,
    choices: [{ index: 0, message, logprobs: null, finish_reason: stopReasonToOpenAiFinish(res.stopReason) }],
  };
  if (res.usage) body.usage = canonicalToOpenAiUsage(res.usage, opts.costUsd);
  return body;
}

export function decodeOpenAiResponse(json: unknown): CanonicalResponse {
  if (!isObject(json)) throw new UpstreamProtocolError('the OpenAI-format response is not a JSON object');
  const choice = Array.isArray(json.choices) ? json.choices[0] : undefined;
  if (!isObject(choice)) throw new UpstreamProtocolError('the OpenAI-format response has no choices');
  const message = isObject(choice.message) ? choice.message : {};
  const content: CanonicalOutputPart[] = [];
  const reasoning = str(message.reasoning_content) ?? str(message.reasoning);
  if (reasoning) content.push({ type: 'reasoning', text: reasoning });
  const text = typeof message.content === 'string' ? message.content : joinContentArray(message.content);
  if (text) content.push({ type: 'text', text });
  const toolCalls = Array.isArray(message.tool_calls) ? message.tool_calls : [];
  toolCalls.forEach((call, i) => {
    if (!isObject(call) || !isObject(call.function)) return;
    const args = call.function.arguments;
    content.push({
      type: 'tool_call',
      id: str(call.id) ?? `call_${i}`,
      name: str(call.function.name) ?? '',
      arguments: typeof args === 'string' ? args : JSON.stringify(args ?? {}),
    });
  });
  const res: CanonicalResponse = {
    id: str(json.id) ?? '',
    model: str(json.model) ?? '',
    content,
    stopReason: openAiFinishToStopReason(choice.finish_reason, toolCalls.length > 0),
  };
  if (typeof json.created === 'number') res.created = json.created;
  const usage = openAiUsageToCanonical(json.usage);
  if (usage) res.usage = usage;
  return res;
}

function joinContentArray(content: unknown): string {
  if (!Array.isArray(content)) return '';
  return content.map((part) => (isObject(part) ? (str(part.text) ?? '') : '')).join('');
}

export function encodeOpenAiError(err: GatewayError): Json {
  return {
    error: {
      type: err.upstreamType ?? err.code,
      code: err.code,
      message: err.message,
      param: err.param ?? null,
    },
  };
}

export function decodeOpenAiError(status: number, bodyText: string): UpstreamError {
  const body = parseErrorBody(bodyText);
  const error = isObject(body) ? body.error : undefined;
  if (isObject(error)) {
    return {
      type: str(error.type) ?? str(error.code) ?? errorTypeForStatus(status),
      message: str(error.message) ?? fallbackErrorMessage(status, bodyText),
    };
  }
  // Compatible servers also answer `{"error": "..."}` or `{"message": "..."}`.
  const message = typeof error === 'string' ? error : isObject(body) ? str(body.message) : undefined;
  return { type: errorTypeForStatus(status), message: message ?? fallbackErrorMessage(status, bodyText) };
}
