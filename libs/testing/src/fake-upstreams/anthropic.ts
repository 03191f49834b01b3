// Fake Anthropic Messages API: /v1/messages (JSON and the full SSE event sequence) and
// /v1/messages/count_tokens. Shapes follow anthropic-sdk-typescript's generated types
// (src/resources/messages/messages.ts: Message, Usage, MessageDeltaUsage, RawMessageStreamEvent)
// and the event order of Anthropic's streaming docs / recorded API streams.
import { asRecord, headerValue, sendJson } from './http';
import { collectText, estimateTokens, lastUserText, planReply, splitText, type ReplyPlan } from './reply';
import type { HandlerContext, ProviderAdapter } from './server';
import { SseWriter } from './sse';
import type { FakeUsage } from './types';

// Anthropic error `type` for each HTTP status it documents.
const ERROR_TYPES: Record<number, string> = {
  400: 'invalid_request_error',
  401: 'authentication_error',
  402: 'billing_error',
  403: 'permission_error',
  404: 'not_found_error',
  413: 'request_too_large',
  429: 'rate_limit_error',
  500: 'api_error',
  504: 'timeout_error',
  529: 'overloaded_error',
};

export const anthropicAdapter: ProviderAdapter = {
  provider: 'anthropic',
  basePath: '',
  routes: [
    {
      method: 'POST',
      pattern: /^\/v1\/messages$/,
      streams: (ctx) => asRecord(ctx.req.json).stream === true,
      handle: messages,
    },
    { method: 'POST', pattern: /^\/v1\/messages\/count_tokens$/, handle: countTokens },
  ],
  authError(req) {
    // Messages verbatim from the real API.
    if (!headerValue(req.headers, 'x-api-key')) {
      return { status: 401, type: 'authentication_error', message: 'x-api-key header is required' };
    }
    if (!headerValue(req.headers, 'anthropic-version')) {
      return { status: 400, type: 'invalid_request_error', message: 'anthropic-version: header is required' };
    }
    return undefined;
  },
  notFound() {
    return { status: 404, type: 'not_found_error', message: 'Not Found' };
  },
  errorBody(error, ids) {
    const type =
      error.type ??
      ERROR_TYPES[error.status] ??
      (error.status >= 500 ? 'api_error' : 'invalid_request_error');
    return {
      type: 'error',
      error: { type, message: error.message ?? defaultMessage(error.status) },
      request_id: ids.next('req_fake_'),
    };
  },
};

function defaultMessage(status: number): string {
  if (status === 529) return 'Overloaded';
  if (status === 429) return 'Number of requests has exceeded your rate limit. Please try again later.';
  if (status >= 500) return 'Internal server error';
  return `Fake Anthropic error (HTTP ${status})`;
}

/**
 * The Message `usage` block. `input_tokens` excludes cache reads and writes (Anthropic reports them
 * separately); every cache write is attributed to the 5-minute TTL bucket.
 */
export function anthropicUsage(
  usage: Required<FakeUsage>,
  outputTokens = usage.outputTokens,
): Record<string, unknown> {
  return {
    input_tokens: usage.inputTokens,
    cache_creation_input_tokens: usage.cacheWriteTokens,
    cache_read_input_tokens: usage.cacheReadTokens,
    cache_creation: { ephemeral_5m_input_tokens: usage.cacheWriteTokens, ephemeral_1h_input_tokens: 0 },
    output_tokens: outputTokens,
    service_tier: 'standard',
    ...(usage.reasoningTokens > 0
      ? { output_tokens_details: { thinking_tokens: usage.reasoningTokens } }
      : {}),
  };
}

/** The cumulative usage carried by `message_delta` (MessageDeltaUsage). */
function deltaUsage(usage: Required<FakeUsage>): Record<string, unknown> {
  return {
    input_tokens: usage.inputTokens,
    cache_creation_input_tokens: usage.cacheWriteTokens,
    cache_read_input_tokens: usage.cacheReadTokens,
    output_tokens: usage.outputTokens,
  };
}

/** Request validation with the API's own wording; returns false after answering 400. */
function validate(ctx: HandlerContext, body: Record<string, unknown>, needMaxTokens: boolean): boolean {
  const missing = [
    typeof body.model === 'string' ? undefined : 'model',
    Array.isArray(body.messages) ? undefined : 'messages',
    !needMaxTokens || typeof body.max_tokens === 'number' ? undefined : 'max_tokens',
  ].find((field) => field !== undefined);
  if (missing === undefined) return true;
  ctx.sendError({ status: 400, type: 'invalid_request_error', message: `${missing}: Field required` });
  return false;
}

function inputText(body: Record<string, unknown>): string {
  return collectText({ system: body.system, messages: body.messages }).join('\n');
}

async function messages(ctx: HandlerContext): Promise<void> {
  const body = asRecord(ctx.req.json);
  if (!validate(ctx, body, true)) return;
  const plan = planReply('anthropic', ctx.behavior, inputText(body), lastUserText(body.messages));
  const id = ctx.ids.next('msg_fake_');
  const toolUseId = plan.kind === 'tool' ? ctx.ids.next('toolu_fake_') : '';
  const model = String(body.model);
  if (body.stream === true) return streamMessage(ctx, plan, id, toolUseId, model);

  const content =
    plan.kind === 'tool'
      ? [{ type: 'tool_use', id: toolUseId, name: plan.call.name, input: plan.call.arguments }]
      : [{ type: 'text', text: plan.text }];
  sendJson(ctx.res, 200, {
    id,
    type: 'message',
    role: 'assistant',
    model,
    content,
    stop_reason: plan.kind === 'tool' ? 'tool_use' : 'end_turn',
    stop_sequence: null,
    ...(ctx.behavior.omitUsage ? {} : { usage: anthropicUsage(plan.usage) }),
  });
}

/**
 * message_start → content_block_start → ping → content_block_delta × N → content_block_stop →
 * message_delta (stop_reason + cumulative usage) → message_stop. message_start reports
 * `output_tokens: 1` like the real API; the authoritative output count is the one in message_delta.
 */
async function streamMessage(
  ctx: HandlerContext,
  plan: ReplyPlan,
  id: string,
  toolUseId: string,
  model: string,
): Promise<void> {
  const sse = new SseWriter(ctx.res, {
    signal: ctx.signal,
    chunkDelayMs: ctx.behavior.chunkDelayMs,
    cutAfterChunks: ctx.behavior.cutAfterChunks,
  });
  if (!sse.start()) return;
  const omitUsage = ctx.behavior.omitUsage === true;
  const events: Record<string, unknown>[] = [
    {
      type: 'message_start',
      message: {
        id,
        type: 'message',
        role: 'assistant',
        model,
        content: [],
        stop_reason: null,
        stop_sequence: null,
        ...(omitUsage ? {} : { usage: anthropicUsage(plan.usage, 1) }),
      },
    },
    {
      type: 'content_block_start',
      index: 0,
      content_block:
        plan.kind === 'tool'
          ? { type: 'tool_use', id: toolUseId, name: plan.call.name, input: {} }
          : { type: 'text', text: '' },
    },
    { type: 'ping' },
  ];
  if (plan.kind === 'tool') {
    for (const partial of splitText(plan.argumentsJson, ctx.behavior.streamChunks)) {
      events.push({
        type: 'content_block_delta',
        index: 0,
        delta: { type: 'input_json_delta', partial_json: partial },
      });
    }
  } else {
    for (const text of splitText(plan.text, ctx.behavior.streamChunks)) {
      events.push({ type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text } });
    }
  }
  events.push(
    { type: 'content_block_stop', index: 0 },
    {
      type: 'message_delta',
      delta: { stop_reason: plan.kind === 'tool' ? 'tool_use' : 'end_turn', stop_sequence: null },
      ...(omitUsage ? {} : { usage: deltaUsage(plan.usage) }),
    },
    { type: 'message_stop' },
  );
  for (const event of events) {
    // Anthropic names every event, and the name always equals the payload's `type`.
    if (!(await sse.sendJson(event, String(event.type)))) return;
  }
  sse.end();
}

async function countTokens(ctx: HandlerContext): Promise<void> {
  const body = asRecord(ctx.req.json);
  if (!validate(ctx, body, false)) return;
  const inputTokens = ctx.behavior.usage?.inputTokens ?? estimateTokens(inputText(body));
  sendJson(ctx.res, 200, { input_tokens: inputTokens });
}
