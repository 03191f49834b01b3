// Anthropic Messages responses, usage and errors, both as the gateway's answer to an Anthropic client
// and as what an Anthropic-format channel answers the gateway.

import type { CanonicalOutputPart, CanonicalResponse, CanonicalUsage, StopReason } from '../canonical';
import { UpstreamProtocolError } from '../relay.errors';
import { isObject, type Json, num, parseArgumentsObject, str } from './fields';
import { errorTypeForStatus, fallbackErrorMessage, parseErrorBody } from './upstream-errors';
import type { EncodeResponseOptions, GatewayError, UpstreamError } from './wire-adapter';

/**
 * `input_tokens` excludes cache reads and writes, so it is the uncached bucket as is. Cache writes are
 * split by TTL from `cache_creation`; whatever part of `cache_creation_input_tokens` it does not explain
 * (older responses have no `cache_creation`) was written with the default 5-minute TTL.
 * `output_tokens` includes thinking; `output_tokens_details.thinking_tokens` is its reasoning share.
 */
export function anthropicUsageToCanonical(usage: unknown): CanonicalUsage | undefined {
  if (!isObject(usage)) return undefined;
  const creation = isObject(usage.cache_creation) ? usage.cache_creation : {};
  let write5m = num(creation.ephemeral_5m_input_tokens);
  const write1h = num(creation.ephemeral_1h_input_tokens);
  const unexplained = num(usage.cache_creation_input_tokens) - write5m - write1h;
  if (unexplained > 0) write5m += unexplained;
  const output = num(usage.output_tokens);
  const details = isObject(usage.output_tokens_details) ? usage.output_tokens_details : {};
  return {
    inputTokens: num(usage.input_tokens),
    outputTokens: output,
    cacheReadTokens: num(usage.cache_read_input_tokens),
    cacheWrite5mTokens: write5m,
    cacheWrite1hTokens: write1h,
    reasoningTokens: Math.min(num(details.thinking_tokens), output),
  };
}

export function canonicalToAnthropicUsage(usage: CanonicalUsage, costUsd?: number): Json {
  const out: Json = {
    input_tokens: usage.inputTokens,
    output_tokens: usage.outputTokens,
    cache_creation_input_tokens: usage.cacheWrite5mTokens + usage.cacheWrite1hTokens,
    cache_read_input_tokens: usage.cacheReadTokens,
    cache_creation: {
      ephemeral_5m_input_tokens: usage.cacheWrite5mTokens,
      ephemeral_1h_input_tokens: usage.cacheWrite1hTokens,
    },
  };
  if (usage.reasoningTokens > 0) out.output_tokens_details = { thinking_tokens: usage.reasoningTokens };
  if (costUsd !== undefined) out.cost = costUsd;
  return out;
}

export function anthropicStopToStopReason(reason: unknown): StopReason {
  switch (reason) {
    case 'max_tokens':
    case 'model_context_window_exceeded':
      return 'max_tokens';
    case 'tool_use':
      return 'tool_use';
    case 'stop_sequence':
      return 'stop_sequence';
    case 'refusal':
      return 'content_filter';
    default:
      return 'end_turn'; // end_turn, pause_turn and anything newer
  }
}

export function stopReasonToAnthropic(reason: StopReason): string {
  switch (reason) {
    case 'content_filter':
      return 'refusal';
    case 'error':
      return 'end_turn';
    default:
      return reason;
  }
}

export function encodeAnthropicResponse(res: CanonicalResponse, opts: EncodeResponseOptions = {}): Json {
  const content = res.content.map((part): Json => {
    if (part.type === 'text') return { type: 'text', text: part.text };
    if (part.type === 'reasoning') {
      const signature = part.signature?.format === 'anthropic' ? part.signature.value : '';
      return { type: 'thinking', thinking: part.text, signature };
    }
    return { type: 'tool_use', id: part.id, name: part.name, input: parseArgumentsObject(part.arguments) };
  });
  return {
    id: res.id,
    type: 'message',
    role: 'assistant',
    model: res.model,
    content,
    stop_reason: stopReasonToAnthropic(res.stopReason),
    stop_sequence: null,
    // The field is required by Anthropic's schema; the caller sets real usage before encoding.
    usage: res.usage
      ? canonicalToAnthropicUsage(res.usage, opts.costUsd)
      : { input_tokens: 0, output_tokens: 0 },
  };
}

export function decodeAnthropicResponse(json: unknown): CanonicalResponse {
  if (!isObject(json)) throw new UpstreamProtocolError('the Anthropic-format response is not a JSON object');
  if (!Array.isArray(json.content))
    throw new UpstreamProtocolError('the Anthropic-format response has no content');
  const content: CanonicalOutputPart[] = [];
  for (const block of json.content) {
    if (!isObject(block)) continue;
    if (block.type === 'text') content.push({ type: 'text', text: str(block.text) ?? '' });
    else if (block.type === 'thinking') {
      const part: CanonicalOutputPart = { type: 'reasoning', text: str(block.thinking) ?? '' };
      if (typeof block.signature === 'string' && block.signature) {
        part.signature = { format: 'anthropic', value: block.signature };
      }
      content.push(part);
    } else if (block.type === 'tool_use') {
      content.push({
        type: 'tool_call',
        id: str(block.id) ?? '',
        name: str(block.name) ?? '',
        arguments: JSON.stringify(block.input ?? {}),
      });
    }
    // Server-tool blocks and redacted thinking have no place in another format's answer.
  }
  const res: CanonicalResponse = {
    id: str(json.id) ?? '',
    model: str(json.model) ?? '',
    content,
    stopReason: anthropicStopToStopReason(json.stop_reason),
  };
  const usage = anthropicUsageToCanonical(json.usage);
  if (usage) res.usage = usage;
  return res;
}

export function encodeAnthropicError(err: GatewayError): Json {
  return { type: 'error', error: { type: err.code, message: err.message } };
}

export function decodeAnthropicError(status: number, bodyText: string): UpstreamError {
  const body = parseErrorBody(bodyText);
  const error = isObject(body) ? body.error : undefined;
  if (isObject(error)) {
    return {
      type: str(error.type) ?? errorTypeForStatus(status),
      message: str(error.message) ?? fallbackErrorMessage(status, bodyText),
    };
  }
  return { type: errorTypeForStatus(status), message: fallbackErrorMessage(status, bodyText) };
}

/** The HTTP status Anthropic documents for each error type, for errors that arrive inside a stream. */
export function anthropicErrorStatus(type: string): number {
  const statuses: Record<string, number> = {
    invalid_request_error: 400,
    authentication_error: 401,
    billing_error: 402,
    permission_error: 403,
    not_found_error: 404,
    request_too_large: 413,
    rate_limit_error: 429,
    api_error: 500,
    timeout_error: 504,
    overloaded_error: 529,
  };
  return statuses[type] ?? 502;
}
