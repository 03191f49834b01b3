// Fake Gemini API (Google AI, v1beta): generateContent, streamGenerateContent (SSE with alt=sse,
// else one JSON array), countTokens and the model list. Shapes follow the GenerateContentResponse /
// UsageMetadata / CountTokensResponse REST resources and recorded API traffic (google/adk-go
// model/gemini/testdata/TestModel_GenerateStream_ok.httprr).
import { asRecord, headerValue, sendJson } from './http';
import { collectText, estimateTokens, lastUserText, planReply, splitText, type ReplyPlan } from './reply';
import type { HandlerContext, ProviderAdapter, Route } from './server';
import { SseWriter } from './sse';
import type { FakeUsage } from './types';

const MODELS = [
  { id: 'gemini-2.5-pro', version: '2.5', displayName: 'Gemini 2.5 Pro' },
  { id: 'gemini-2.5-flash', version: '2.5', displayName: 'Gemini 2.5 Flash' },
  { id: 'gemini-2.0-flash', version: '2.0', displayName: 'Gemini 2.0 Flash' },
];

// google.rpc.Code names Google puts in `error.status` for each HTTP status.
const STATUS_NAMES: Record<number, string> = {
  400: 'INVALID_ARGUMENT',
  401: 'UNAUTHENTICATED',
  403: 'PERMISSION_DENIED',
  404: 'NOT_FOUND',
  409: 'ABORTED',
  429: 'RESOURCE_EXHAUSTED',
  499: 'CANCELLED',
  500: 'INTERNAL',
  501: 'NOT_IMPLEMENTED',
  503: 'UNAVAILABLE',
  504: 'DEADLINE_EXCEEDED',
};

/** `/v1beta/models/{model}:{method}`; `v1` is accepted too, as the real API serves both. */
function modelRoute(method: string, handle: Route['handle'], streams = false): Route {
  return {
    method: 'POST',
    pattern: new RegExp(`^/(v1beta|v1)/models/([^/:]+):${method}$`),
    paramNames: ['apiVersion', 'model'],
    streams: () => streams,
    handle,
  };
}

export const geminiAdapter: ProviderAdapter = {
  provider: 'gemini',
  basePath: '',
  // Gemini frames SSE events with CRLF ("data: {...}\r\n\r\n"); routers must not assume LF.
  sseLineEnding: '\r\n',
  routes: [
    modelRoute('generateContent', generateContent),
    modelRoute('streamGenerateContent', streamGenerateContent, true),
    modelRoute('countTokens', countTokens),
    { method: 'GET', pattern: /^\/(v1beta|v1)\/models$/, handle: listModels },
  ],
  authError(req) {
    if (headerValue(req.headers, 'x-goog-api-key') || req.query.key) return undefined;
    // What the real API answers to a keyless call (verbatim).
    return {
      status: 403,
      type: 'PERMISSION_DENIED',
      message:
        "Method doesn't allow unregistered callers (callers without established identity). Please use API Key or other form of API consumer identity to call this API.",
    };
  },
  notFound(req) {
    return {
      status: 404,
      type: 'NOT_FOUND',
      message: `Requested entity was not found: ${req.method} ${req.path}`,
    };
  },
  errorBody(error) {
    return {
      error: {
        code: error.status,
        message: error.message ?? defaultMessage(error.status),
        status: error.type ?? STATUS_NAMES[error.status] ?? (error.status >= 500 ? 'INTERNAL' : 'UNKNOWN'),
      },
    };
  },
};

function defaultMessage(status: number): string {
  if (status === 429) return 'Resource has been exhausted (e.g. check quota).';
  if (status === 503) return 'The model is overloaded. Please try again later.';
  if (status >= 500)
    return 'An internal error has occurred. Please retry or report in https://developers.generativeai.google/guide/troubleshooting';
  return `Fake Gemini error (HTTP ${status})`;
}

/**
 * `promptTokenCount` includes cached tokens and `candidatesTokenCount` excludes thinking tokens, so
 * `totalTokenCount` = prompt + candidates + thoughts. Zero-valued optional counts are omitted, as
 * proto3 JSON does (cache writes have no Gemini field and are ignored).
 */
export function geminiUsage(usage: Required<FakeUsage>): Record<string, unknown> {
  return {
    promptTokenCount: usage.inputTokens,
    candidatesTokenCount: usage.outputTokens,
    totalTokenCount: usage.inputTokens + usage.outputTokens + usage.reasoningTokens,
    ...(usage.cacheReadTokens > 0 ? { cachedContentTokenCount: usage.cacheReadTokens } : {}),
    promptTokensDetails: [{ modality: 'TEXT', tokenCount: usage.inputTokens }],
    ...(usage.cacheReadTokens > 0
      ? { cacheTokensDetails: [{ modality: 'TEXT', tokenCount: usage.cacheReadTokens }] }
      : {}),
    candidatesTokensDetails: [{ modality: 'TEXT', tokenCount: usage.outputTokens }],
    ...(usage.reasoningTokens > 0 ? { thoughtsTokenCount: usage.reasoningTokens } : {}),
  };
}

interface Prepared {
  plan: ReplyPlan;
  model: string;
  responseId: string;
}

/** Validates like the API (400 INVALID_ARGUMENT without `contents`) and plans the answer. */
function prepare(ctx: HandlerContext): Prepared | undefined {
  const body = asRecord(ctx.req.json);
  if (!Array.isArray(body.contents) || body.contents.length === 0) {
    ctx.sendError({ status: 400, message: '* GenerateContentRequest.contents: contents is not specified\n' });
    return undefined;
  }
  const inputText = collectText({ systemInstruction: body.systemInstruction, contents: body.contents }).join(
    '\n',
  );
  const plan = planReply('gemini', ctx.behavior, inputText, lastUserText(body.contents, true));
  return { plan, model: ctx.params.model ?? 'gemini', responseId: ctx.ids.next('fake-response-') };
}

/** One GenerateContentResponse. `last` adds finishReason and the final usage. */
function responseChunk(
  p: Prepared,
  parts: unknown[],
  last: boolean,
  omitUsage: boolean,
  index?: number,
): unknown {
  // Mid-stream chunks carry a prompt-only usageMetadata, as recorded from the real API: a router
  // must keep the last usageMetadata, not add them up.
  const interimUsage = {
    promptTokenCount: p.plan.usage.inputTokens,
    totalTokenCount: p.plan.usage.inputTokens,
    promptTokensDetails: [{ modality: 'TEXT', tokenCount: p.plan.usage.inputTokens }],
  };
  return {
    candidates: [
      {
        content: { parts, role: 'model' },
        ...(last ? { finishReason: 'STOP' } : {}),
        ...(index === undefined ? {} : { index }),
      },
    ],
    ...(omitUsage ? {} : { usageMetadata: last ? geminiUsage(p.plan.usage) : interimUsage }),
    modelVersion: p.model,
    responseId: p.responseId,
  };
}

/** The streamed chunks: text split into pieces, or a single functionCall part (Gemini never splits those). */
function streamChunks(ctx: HandlerContext, p: Prepared): unknown[] {
  const omitUsage = ctx.behavior.omitUsage === true;
  if (p.plan.kind === 'tool') {
    const part = { functionCall: { name: p.plan.call.name, args: p.plan.call.arguments } };
    return [responseChunk(p, [part], true, omitUsage)];
  }
  const pieces = splitText(p.plan.text, ctx.behavior.streamChunks);
  return pieces.map((text, i) => responseChunk(p, [{ text }], i === pieces.length - 1, omitUsage));
}

async function generateContent(ctx: HandlerContext): Promise<void> {
  const p = prepare(ctx);
  if (!p) return;
  const parts =
    p.plan.kind === 'tool'
      ? [{ functionCall: { name: p.plan.call.name, args: p.plan.call.arguments } }]
      : [{ text: p.plan.text }];
  sendJson(ctx.res, 200, responseChunk(p, parts, true, ctx.behavior.omitUsage === true, 0));
}

async function streamGenerateContent(ctx: HandlerContext): Promise<void> {
  const p = prepare(ctx);
  if (!p) return;
  const chunks = streamChunks(ctx, p);
  if (ctx.req.query.alt !== 'sse') {
    // Without alt=sse the API streams one JSON array of the same responses.
    sendJson(ctx.res, 200, chunks);
    return;
  }
  const sse = new SseWriter(ctx.res, {
    signal: ctx.signal,
    chunkDelayMs: ctx.behavior.chunkDelayMs,
    cutAfterChunks: ctx.behavior.cutAfterChunks,
    lineEnding: '\r\n',
  });
  if (!sse.start()) return;
  for (const chunk of chunks) {
    if (!(await sse.sendJson(chunk))) return;
  }
  sse.end();
}

async function countTokens(ctx: HandlerContext): Promise<void> {
  const body = asRecord(ctx.req.json);
  // Either `contents` or a whole `generateContentRequest` may be counted.
  const request = body.generateContentRequest === undefined ? body : asRecord(body.generateContentRequest);
  const counted = collectText({
    systemInstruction: request.systemInstruction,
    contents: request.contents,
  }).join('\n');
  const totalTokens = ctx.behavior.usage?.inputTokens ?? estimateTokens(counted);
  sendJson(ctx.res, 200, {
    totalTokens,
    promptTokensDetails: [{ modality: 'TEXT', tokenCount: totalTokens }],
  });
}

async function listModels(ctx: HandlerContext): Promise<void> {
  const models = MODELS.map((m) => ({
    name: `models/${m.id}`,
    version: m.version,
    displayName: m.displayName,
    description: `Fake ${m.displayName}`,
    inputTokenLimit: 1_048_576,
    outputTokenLimit: 65_536,
    supportedGenerationMethods: ['generateContent', 'countTokens'],
  }));
  sendJson(ctx.res, 200, { models });
}
