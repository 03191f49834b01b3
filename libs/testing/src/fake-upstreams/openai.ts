// Fake OpenAI API: chat completions (JSON and SSE), embeddings and the model list.
// Shapes follow openai-node's generated types (src/resources/chat/completions/completions.ts,
// src/resources/completions.ts CompletionUsage, src/resources/embeddings.ts).
import { asRecord, headerValue, sendJson } from './http';
import { collectText, lastUserText, planReply, splitText, type ReplyPlan } from './reply';
import type { HandlerContext, ProviderAdapter } from './server';
import { openaiMoreRoutes } from './openai-more';
import { SseWriter } from './sse';
import type { FakeUsage } from './types';

const SYSTEM_FINGERPRINT = 'fp_fake';
const EMBEDDING_DIMENSIONS = 8;
const MODELS = ['gpt-4o', 'gpt-4o-mini', 'text-embedding-3-small'];
// Verbatim text of OpenAI's 401 for a request without credentials.
const NO_KEY_MESSAGE =
  "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY), or as the password field (with blank username) if you're accessing the API from your browser and are prompted for a username and password. You can obtain an API key from https://platform.openai.com/account/api-keys.";

export const openaiAdapter: ProviderAdapter = {
  provider: 'openai',
  basePath: '/v1',
  routes: [
    {
      method: 'POST',
      pattern: /^\/v1\/chat\/completions$/,
      streams: (ctx) => asRecord(ctx.req.json).stream === true,
      handle: chatCompletions,
    },
    { method: 'POST', pattern: /^\/v1\/embeddings$/, handle: embeddings },
    { method: 'GET', pattern: /^\/v1\/models$/, handle: listModels },
    ...openaiMoreRoutes,
  ],
  authError(req) {
    const auth = headerValue(req.headers, 'authorization') ?? '';
    return /^Bearer\s+\S+/i.test(auth)
      ? undefined
      : { status: 401, type: 'invalid_request_error', message: NO_KEY_MESSAGE, code: null };
  },
  notFound(req) {
    return {
      status: 404,
      type: 'invalid_request_error',
      message: `Invalid URL (${req.method} ${req.path})`,
      code: null,
    };
  },
  errorBody(error) {
    return {
      error: {
        message: error.message ?? defaultMessage(error.status),
        type: error.type ?? defaultType(error.status),
        param: null,
        code: error.code !== undefined ? error.code : defaultCode(error.status),
      },
    };
  },
};

function defaultType(status: number): string {
  if (status === 429) return 'requests';
  if (status >= 500) return 'server_error';
  return 'invalid_request_error';
}

function defaultCode(status: number): string | null {
  if (status === 401) return 'invalid_api_key';
  if (status === 429) return 'rate_limit_exceeded';
  return null;
}

function defaultMessage(status: number): string {
  if (status === 401) return 'Incorrect API key provided.';
  if (status === 429) return 'Rate limit reached for requests. Please try again later.';
  if (status >= 500) return 'The server had an error while processing your request. Sorry about that!';
  return `Fake OpenAI error (HTTP ${status})`;
}

/** `prompt_tokens` includes cached tokens and `completion_tokens` includes reasoning tokens, as OpenAI counts. */
export function openaiUsage(usage: Required<FakeUsage>): Record<string, unknown> {
  return {
    prompt_tokens: usage.inputTokens,
    completion_tokens: usage.outputTokens,
    total_tokens: usage.inputTokens + usage.outputTokens,
    prompt_tokens_details: { cached_tokens: usage.cacheReadTokens, audio_tokens: 0 },
    completion_tokens_details: {
      reasoning_tokens: usage.reasoningTokens,
      audio_tokens: 0,
      accepted_prediction_tokens: 0,
      rejected_prediction_tokens: 0,
    },
  };
}

async function chatCompletions(ctx: HandlerContext): Promise<void> {
  const body = asRecord(ctx.req.json);
  if (typeof body.model !== 'string') {
    return ctx.sendError({ status: 400, message: 'you must provide a model parameter', code: null });
  }
  if (!Array.isArray(body.messages)) {
    return ctx.sendError({
      status: 400,
      message: "Missing required parameter: 'messages'.",
      code: 'missing_required_parameter',
    });
  }
  const plan = planReply(
    'openai',
    ctx.behavior,
    collectText(body.messages).join('\n'),
    lastUserText(body.messages),
  );
  const head = {
    id: ctx.ids.next('chatcmpl-fake-'),
    created: Math.floor(Date.now() / 1000),
    model: body.model,
  };
  const toolCallId = plan.kind === 'tool' ? ctx.ids.next('call_fake_') : '';
  if (body.stream === true) {
    const includeUsage = asRecord(body.stream_options).include_usage === true && !ctx.behavior.omitUsage;
    return streamChat(ctx, plan, head, toolCallId, includeUsage);
  }

  const message =
    plan.kind === 'tool'
      ? {
          role: 'assistant',
          content: null,
          refusal: null,
          annotations: [],
          tool_calls: [
            {
              id: toolCallId,
              type: 'function',
              function: { name: plan.call.name, arguments: plan.argumentsJson },
            },
          ],
        }
      : { role: 'assistant', content: plan.text, refusal: null, annotations: [] };
  const completion = {
    ...head,
    object: 'chat.completion',
    choices: [
      { index: 0, message, logprobs: null, finish_reason: plan.kind === 'tool' ? 'tool_calls' : 'stop' },
    ],
    ...(ctx.behavior.omitUsage ? {} : { usage: openaiUsage(plan.usage) }),
    service_tier: 'default',
    system_fingerprint: SYSTEM_FINGERPRINT,
  };
  sendJson(ctx.res, 200, completion);
}

/**
 * role chunk → one chunk per content piece → empty delta with finish_reason → (usage chunk with
 * `choices: []` only when `stream_options.include_usage`) → `data: [DONE]`. While include_usage is
 * on, every other chunk carries `usage: null`, as the API documents.
 */
async function streamChat(
  ctx: HandlerContext,
  plan: ReplyPlan,
  head: { id: string; created: number; model: string },
  toolCallId: string,
  includeUsage: boolean,
): Promise<void> {
  const sse = new SseWriter(ctx.res, {
    signal: ctx.signal,
    chunkDelayMs: ctx.behavior.chunkDelayMs,
    cutAfterChunks: ctx.behavior.cutAfterChunks,
  });
  if (!sse.start()) return;
  const chunk = (
    delta: Record<string, unknown>,
    finishReason: string | null = null,
  ): Record<string, unknown> => ({
    ...head,
    object: 'chat.completion.chunk',
    service_tier: 'default',
    system_fingerprint: SYSTEM_FINGERPRINT,
    choices: [{ index: 0, delta, logprobs: null, finish_reason: finishReason }],
    ...(includeUsage ? { usage: null } : {}),
  });

  const deltas: Record<string, unknown>[] = [];
  if (plan.kind === 'tool') {
    deltas.push({
      role: 'assistant',
      content: null,
      tool_calls: [
        { index: 0, id: toolCallId, type: 'function', function: { name: plan.call.name, arguments: '' } },
      ],
      refusal: null,
    });
    for (const piece of splitText(plan.argumentsJson, ctx.behavior.streamChunks)) {
      deltas.push({ tool_calls: [{ index: 0, function: { arguments: piece } }] });
    }
  } else {
    deltas.push({ role: 'assistant', content: '', refusal: null });
    for (const piece of splitText(plan.text, ctx.behavior.streamChunks)) deltas.push({ content: piece });
  }
  for (const delta of deltas) {
    if (!(await sse.sendJson(chunk(delta)))) return;
  }
  if (!(await sse.sendJson(chunk({}, plan.kind === 'tool' ? 'tool_calls' : 'stop')))) return;
  if (includeUsage) {
    const usageChunk = { ...chunk({}), choices: [], usage: openaiUsage(plan.usage) };
    if (!(await sse.sendJson(usageChunk))) return;
  }
  if (!(await sse.send('[DONE]'))) return;
  sse.end();
}

async function embeddings(ctx: HandlerContext): Promise<void> {
  const body = asRecord(ctx.req.json);
  if (typeof body.model !== 'string') {
    return ctx.sendError({ status: 400, message: 'you must provide a model parameter', code: null });
  }
  const inputs = embeddingInputs(body.input);
  if (inputs.length === 0) {
    return ctx.sendError({
      status: 400,
      message: "'input' : input must be a string or an array",
      code: null,
    });
  }
  const dimensions =
    typeof body.dimensions === 'number' && body.dimensions > 0 ? body.dimensions : EMBEDDING_DIMENSIONS;
  // openai-node asks for base64 by default and decodes it itself, so both encodings must work.
  const base64 = body.encoding_format === 'base64';
  const inputTokens = inputs.reduce((sum, text) => sum + Math.max(1, Math.ceil(text.length / 4)), 0);
  const promptTokens = ctx.behavior.usage?.inputTokens ?? inputTokens;
  const response = {
    object: 'list',
    data: inputs.map((text, index) => {
      const vector = embeddingVector(text, dimensions);
      return { object: 'embedding', index, embedding: base64 ? float32Base64(vector) : vector };
    }),
    model: body.model,
    ...(ctx.behavior.omitUsage ? {} : { usage: { prompt_tokens: promptTokens, total_tokens: promptTokens } }),
  };
  sendJson(ctx.res, 200, response);
}

/** `input` may be a string, strings, a token array or token arrays; tokens are embedded by their text. */
function embeddingInputs(input: unknown): string[] {
  if (typeof input === 'string') return [input];
  if (!Array.isArray(input) || input.length === 0) return [];
  if (input.every((item) => typeof item === 'number')) return [input.join(' ')];
  return input.map((item) => (Array.isArray(item) ? item.join(' ') : String(item)));
}

/** A unit-length vector seeded by an FNV-1a hash of the text: same text, same vector, every run. */
export function embeddingVector(text: string, dimensions: number): number[] {
  let seed = 0x811c9dc5;
  for (let i = 0; i < text.length; i += 1) seed = Math.imul(seed ^ text.charCodeAt(i), 0x01000193) >>> 0;
  const raw: number[] = [];
  for (let i = 0; i < dimensions; i += 1) {
    seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0;
    raw.push(seed / 0xffffffff - 0.5);
  }
  const norm = Math.sqrt(raw.reduce((sum, v) => sum + v * v, 0)) || 1;
  // Rounded to float32 so the float and base64 encodings carry exactly the same numbers.
  return raw.map((v) => Math.fround(v / norm));
}

function float32Base64(vector: number[]): string {
  const view = new DataView(new ArrayBuffer(vector.length * 4));
  vector.forEach((v, i) => view.setFloat32(i * 4, v, true));
  return Buffer.from(view.buffer).toString('base64');
}

async function listModels(ctx: HandlerContext): Promise<void> {
  const data = MODELS.map((id) => ({ id, object: 'model', created: 1_700_000_000, owned_by: 'fake-openai' }));
  sendJson(ctx.res, 200, { object: 'list', data });
}
