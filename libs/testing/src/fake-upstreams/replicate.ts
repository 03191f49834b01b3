// Fake Replicate predictions API for language models: `POST /v1/models/{owner}/{name}/predictions` and
// `POST /v1/predictions` (with `version`) create a prediction over `input.prompt`; with `Prefer: wait` it
// answers finished, otherwise `starting` (then `GET /v1/predictions/{id}` answers it finished). With
// `stream: true` the prediction carries `urls.stream`, an SSE stream of `output` events (text pieces),
// then `done`. Finished predictions have `output` (a list of pieces) and `metrics.input_token_count` /
// `output_token_count`. Errors are problem+json: `{title, detail, status}`.
import { asRecord, headerValue, sendJson } from './http';
import { planReply, splitText, type ReplyPlan } from './reply';
import type { HandlerContext, ProviderAdapter } from './server';
import { SseWriter } from './sse';

interface Stored {
  id: string;
  model: string;
  version: string;
  input: Record<string, unknown>;
  plan: ReplyPlan;
  createdAt: string;
  stream: boolean;
}

// Predictions live per fake server (keyed by the server's own adapter instance through this map).
const predictions = new Map<string, Stored>();

function prediction(
  ctx: HandlerContext,
  p: Stored,
  status: 'starting' | 'processing' | 'succeeded',
): Record<string, unknown> {
  const base = `http://${String(ctx.req.headers.host)}`;
  const done = status === 'succeeded';
  const text = p.plan.kind === 'text' ? p.plan.text : '';
  return {
    id: p.id,
    model: p.model,
    version: p.version,
    input: p.input,
    logs: '',
    output: done ? splitText(text, ctx.behavior.streamChunks) : null,
    data_removed: false,
    error: null,
    status,
    created_at: p.createdAt,
    ...(done ? { started_at: p.createdAt, completed_at: new Date().toISOString() } : {}),
    urls: {
      get: `${base}/v1/predictions/${p.id}`,
      cancel: `${base}/v1/predictions/${p.id}/cancel`,
      web: `https://replicate.com/p/${p.id}`,
      ...(p.stream ? { stream: `${base}/v1/stream/${p.id}` } : {}),
    },
    metrics: done
      ? {
          predict_time: 0.042,
          total_time: 0.05,
          ...(ctx.behavior.omitUsage
            ? {}
            : { input_token_count: p.plan.usage.inputTokens, output_token_count: p.plan.usage.outputTokens }),
        }
      : {},
  };
}

async function create(ctx: HandlerContext): Promise<void> {
  const body = asRecord(ctx.req.json);
  const input = asRecord(body.input);
  if (typeof input.prompt !== 'string') {
    return ctx.sendError({
      status: 422,
      type: 'Input validation failed',
      message: 'input: prompt is required',
    });
  }
  const model = ctx.params.owner ? `${ctx.params.owner}/${ctx.params.name}` : 'replicate/versioned';
  const version = typeof body.version === 'string' ? body.version : 'fake-version-1';
  const inputText = [input.system_prompt, input.prompt].filter((v) => typeof v === 'string').join('\n');
  const stored: Stored = {
    id: ctx.ids.next('pred_fake_'),
    model,
    version,
    input,
    plan: planReply('replicate', { ...ctx.behavior, toolCall: undefined }, inputText, input.prompt),
    createdAt: new Date().toISOString(),
    stream: body.stream === true,
  };
  predictions.set(stored.id, stored);
  const wait = /^wait/.test(headerValue(ctx.req.headers, 'prefer') ?? '');
  sendJson(ctx.res, 201, prediction(ctx, stored, wait && !stored.stream ? 'succeeded' : 'starting'));
}

async function get(ctx: HandlerContext): Promise<void> {
  const stored = predictions.get(ctx.params.id);
  if (!stored)
    return ctx.sendError({
      status: 404,
      type: 'Not found',
      message: 'The requested resource could not be found.',
    });
  sendJson(ctx.res, 200, prediction(ctx, stored, 'succeeded'));
}

async function stream(ctx: HandlerContext): Promise<void> {
  const stored = predictions.get(ctx.params.id);
  if (!stored)
    return ctx.sendError({
      status: 404,
      type: 'Not found',
      message: 'The requested resource could not be found.',
    });
  const sse = new SseWriter(ctx.res, {
    signal: ctx.signal,
    chunkDelayMs: ctx.behavior.chunkDelayMs,
    cutAfterChunks: ctx.behavior.cutAfterChunks,
  });
  if (!sse.start()) return;
  const text = stored.plan.kind === 'text' ? stored.plan.text : '';
  for (const piece of splitText(text, ctx.behavior.streamChunks)) {
    // A piece with line breaks travels as several data lines, as SSE requires.
    if (!(await sse.send(piece.split('\n').join('\ndata: '), 'output'))) return;
  }
  if (!(await sse.send('{}', 'done'))) return;
  sse.end();
}

export const replicateAdapter: ProviderAdapter = {
  provider: 'replicate',
  basePath: '/v1',
  routes: [
    {
      method: 'POST',
      pattern: /^\/v1\/models\/([^/]+)\/([^/]+)\/predictions$/,
      paramNames: ['owner', 'name'],
      handle: create,
    },
    { method: 'POST', pattern: /^\/v1\/predictions$/, handle: create },
    { method: 'GET', pattern: /^\/v1\/predictions\/([^/]+)$/, paramNames: ['id'], handle: get },
    {
      method: 'GET',
      pattern: /^\/v1\/stream\/([^/]+)$/,
      paramNames: ['id'],
      streams: () => true,
      handle: stream,
    },
  ],
  authError(req) {
    const auth = headerValue(req.headers, 'authorization') ?? '';
    return /^(Bearer|Token)\s+\S+/.test(auth)
      ? undefined
      : { status: 401, type: 'Unauthenticated', message: 'You did not pass a valid authentication token' };
  },
  notFound() {
    return { status: 404, type: 'Not found', message: 'The requested resource could not be found.' };
  },
  errorBody(error) {
    return {
      title: error.type ?? (error.status === 429 ? 'Request was throttled' : `HTTP ${error.status}`),
      detail: error.message ?? `Fake Replicate error (HTTP ${error.status})`,
      status: error.status,
    };
  },
};
