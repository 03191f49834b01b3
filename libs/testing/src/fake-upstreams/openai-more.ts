// The fake OpenAI API's endpoints beyond chat: Responses (JSON and its SSE event sequence), images
// (generations and multipart edits), audio (multipart transcriptions, speech bytes) and a Jina/Cohere-style
// rerank. Shapes follow openai-node's generated types (src/resources/responses/responses.ts,
// images.ts, audio/transcriptions.ts) and Jina's rerank API.
import { asRecord, sendJson, sendRaw } from './http';
import { collectText, estimateTokens, planReply, splitText } from './reply';
import type { HandlerContext, Route } from './server';
import { SseWriter } from './sse';

/** A multipart field as the fake read it (the body was recorded as UTF-8, so use text files in tests). */
export function multipartFields(ctx: HandlerContext): Record<string, { value: string; filename?: string }> {
  const type = String(ctx.req.headers['content-type'] ?? '');
  const boundary = /boundary=(?:"([^"]+)"|([^;]+))/.exec(type);
  const b = boundary?.[1] ?? boundary?.[2];
  const out: Record<string, { value: string; filename?: string }> = {};
  if (!b) return out;
  for (const chunk of ctx.req.rawBody.split(`--${b}`)) {
    const headerEnd = chunk.indexOf('\r\n\r\n');
    if (headerEnd === -1) continue;
    const headers = chunk.slice(0, headerEnd);
    const name = /name="([^"]*)"/.exec(headers)?.[1];
    if (!name) continue;
    const filename = /filename="([^"]*)"/.exec(headers)?.[1];
    out[name] = {
      value: chunk.slice(headerEnd + 4).replace(/\r\n$/, ''),
      ...(filename !== undefined ? { filename } : {}),
    };
  }
  return out;
}

function responsesUsage(
  input: number,
  output: number,
  cached: number,
  reasoning: number,
): Record<string, unknown> {
  return {
    input_tokens: input,
    input_tokens_details: { cached_tokens: cached },
    output_tokens: output,
    output_tokens_details: { reasoning_tokens: reasoning },
    total_tokens: input + output,
  };
}

async function responses(ctx: HandlerContext): Promise<void> {
  const body = asRecord(ctx.req.json);
  if (typeof body.model !== 'string') {
    return ctx.sendError({
      status: 400,
      message: 'Missing required parameter: model.',
      code: 'missing_required_parameter',
    });
  }
  const inputText = [...collectText(body.instructions), ...collectText(body.input)].join('\n');
  const lastText = typeof body.input === 'string' ? body.input : (collectText(body.input).at(-1) ?? '');
  const plan = planReply('openai', { ...ctx.behavior, toolCall: undefined }, inputText, lastText);
  const text = plan.kind === 'text' ? plan.text : '';
  const usage = ctx.behavior.omitUsage
    ? null
    : responsesUsage(
        plan.usage.inputTokens,
        plan.usage.outputTokens,
        plan.usage.cacheReadTokens,
        plan.usage.reasoningTokens,
      );
  const id = ctx.ids.next('resp_fake_');
  const itemId = ctx.ids.next('msg_fake_');
  const createdAt = Math.floor(Date.now() / 1000);
  const message = (done: boolean) => ({
    type: 'message',
    id: itemId,
    status: done ? 'completed' : 'in_progress',
    role: 'assistant',
    content: done ? [{ type: 'output_text', text, annotations: [], logprobs: [] }] : [],
  });
  const response = (status: string, done: boolean) => ({
    id,
    object: 'response',
    created_at: createdAt,
    status,
    error: null,
    incomplete_details: null,
    instructions: body.instructions ?? null,
    model: body.model,
    output: done ? [message(true)] : [],
    parallel_tool_calls: true,
    tool_choice: 'auto',
    tools: [],
    usage: done ? usage : null,
  });
  if (body.stream !== true) return sendJson(ctx.res, 200, response('completed', true));

  const sse = new SseWriter(ctx.res, {
    signal: ctx.signal,
    chunkDelayMs: ctx.behavior.chunkDelayMs,
    cutAfterChunks: ctx.behavior.cutAfterChunks,
  });
  if (!sse.start()) return;
  let seq = 0;
  const emit = (type: string, payload: Record<string, unknown>) =>
    sse.sendJson({ type, sequence_number: seq++, ...payload }, type);
  const steps: Array<[string, Record<string, unknown>]> = [
    ['response.created', { response: response('in_progress', false) }],
    ['response.in_progress', { response: response('in_progress', false) }],
    ['response.output_item.added', { output_index: 0, item: message(false) }],
    [
      'response.content_part.added',
      {
        item_id: itemId,
        output_index: 0,
        content_index: 0,
        part: { type: 'output_text', text: '', annotations: [] },
      },
    ],
    ...splitText(text, ctx.behavior.streamChunks).map((delta): [string, Record<string, unknown>] => [
      'response.output_text.delta',
      { item_id: itemId, output_index: 0, content_index: 0, delta, logprobs: [] },
    ]),
    ['response.output_text.done', { item_id: itemId, output_index: 0, content_index: 0, text, logprobs: [] }],
    [
      'response.content_part.done',
      {
        item_id: itemId,
        output_index: 0,
        content_index: 0,
        part: { type: 'output_text', text, annotations: [] },
      },
    ],
    ['response.output_item.done', { output_index: 0, item: message(true) }],
    ['response.completed', { response: response('completed', true) }],
  ];
  for (const [type, payload] of steps) {
    if (!(await emit(type, payload))) return;
  }
  sse.end();
}

/** A 1×1 transparent PNG, the fake's every image. */
export const FAKE_PNG_BASE64 =
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==';

function imagesAnswer(ctx: HandlerContext, prompt: string, n: number, model: string): void {
  const tokenModel = model.startsWith('gpt-image');
  const input = ctx.behavior.usage?.inputTokens ?? estimateTokens(prompt);
  const output = ctx.behavior.usage?.outputTokens ?? 272 * n;
  sendJson(ctx.res, 200, {
    created: Math.floor(Date.now() / 1000),
    data: Array.from({ length: n }, () => ({ b64_json: FAKE_PNG_BASE64 })),
    ...(tokenModel && !ctx.behavior.omitUsage
      ? {
          usage: {
            total_tokens: input + output,
            input_tokens: input,
            output_tokens: output,
            input_tokens_details: { text_tokens: input, image_tokens: 0 },
          },
        }
      : {}),
  });
}

async function imageGenerations(ctx: HandlerContext): Promise<void> {
  const body = asRecord(ctx.req.json);
  if (typeof body.prompt !== 'string')
    return ctx.sendError({ status: 400, message: "Missing required parameter: 'prompt'." });
  imagesAnswer(
    ctx,
    body.prompt,
    typeof body.n === 'number' ? body.n : 1,
    typeof body.model === 'string' ? body.model : 'dall-e-2',
  );
}

async function imageEdits(ctx: HandlerContext): Promise<void> {
  const fields = multipartFields(ctx);
  if (!fields.image?.filename && !fields['image[]']?.filename) {
    return ctx.sendError({ status: 400, message: "Missing required parameter: 'image'." });
  }
  if (!fields.prompt) return ctx.sendError({ status: 400, message: "Missing required parameter: 'prompt'." });
  imagesAnswer(ctx, fields.prompt.value, Number(fields.n?.value ?? 1), fields.model?.value ?? 'dall-e-2');
}

async function transcriptions(ctx: HandlerContext): Promise<void> {
  const fields = multipartFields(ctx);
  if (!fields.file?.filename)
    return ctx.sendError({ status: 400, message: "Missing required parameter: 'file'." });
  const text = ctx.behavior.replyText ?? `Transcript of ${fields.file.filename}`;
  const format = fields.response_format?.value ?? 'json';
  if (format === 'text') return sendRaw(ctx.res, 200, text, { 'content-type': 'text/plain; charset=utf-8' });
  const model = fields.model?.value ?? 'whisper-1';
  const input = ctx.behavior.usage?.inputTokens ?? Math.max(1, Math.ceil(fields.file.value.length / 4));
  const output = ctx.behavior.usage?.outputTokens ?? estimateTokens(text);
  sendJson(ctx.res, 200, {
    text,
    ...(model.startsWith('gpt-4o') && !ctx.behavior.omitUsage
      ? {
          usage: {
            type: 'tokens',
            input_tokens: input,
            input_token_details: { text_tokens: 0, audio_tokens: input },
            output_tokens: output,
            total_tokens: input + output,
          },
        }
      : {}),
  });
}

/** Speech: deterministic bytes standing in for audio (an ID3-less "MP3" of the input's length). */
async function speech(ctx: HandlerContext): Promise<void> {
  const body = asRecord(ctx.req.json);
  if (typeof body.input !== 'string')
    return ctx.sendError({ status: 400, message: "Missing required parameter: 'input'." });
  const audio = fakeSpeechBytes(body.input);
  if (ctx.res.headersSent) return;
  ctx.res.writeHead(200, { 'content-type': 'audio/mpeg', 'content-length': audio.length });
  ctx.res.end(audio);
}

export function fakeSpeechBytes(input: string): Buffer {
  const out = Buffer.alloc(64 + input.length);
  for (let i = 0; i < out.length; i += 1) out[i] = (i * 31 + input.length) & 0xff;
  return out;
}

/** Jina-style rerank: documents scored by the words they share with the query. */
async function rerank(ctx: HandlerContext): Promise<void> {
  const body = asRecord(ctx.req.json);
  if (typeof body.query !== 'string' || !Array.isArray(body.documents)) {
    return ctx.sendError({ status: 400, message: "'query' and 'documents' are required" });
  }
  const words = new Set(body.query.toLowerCase().split(/\W+/).filter(Boolean));
  const docs = body.documents.map((d) => (typeof d === 'string' ? d : collectText(d).join(' ')));
  const results = docs
    .map((text, index) => {
      const shared = text
        .toLowerCase()
        .split(/\W+/)
        .filter((w) => words.has(w)).length;
      return {
        index,
        relevance_score: Math.round((shared / Math.max(1, words.size)) * 1000) / 1000,
        document: { text },
      };
    })
    .sort((a, b) => b.relevance_score - a.relevance_score)
    .slice(0, typeof body.top_n === 'number' ? body.top_n : docs.length);
  const tokens = estimateTokens([body.query, ...docs].join(' '));
  sendJson(ctx.res, 200, {
    model: body.model,
    results,
    ...(ctx.behavior.omitUsage ? {} : { usage: { total_tokens: ctx.behavior.usage?.inputTokens ?? tokens } }),
  });
}

export const openaiMoreRoutes: Route[] = [
  {
    method: 'POST',
    pattern: /^\/v1\/responses$/,
    streams: (ctx) => asRecord(ctx.req.json).stream === true,
    handle: responses,
  },
  { method: 'POST', pattern: /^\/v1\/images\/generations$/, handle: imageGenerations },
  { method: 'POST', pattern: /^\/v1\/images\/edits$/, handle: imageEdits },
  { method: 'POST', pattern: /^\/v1\/audio\/transcriptions$/, handle: transcriptions },
  { method: 'POST', pattern: /^\/v1\/audio\/speech$/, handle: speech },
  { method: 'POST', pattern: /^\/v1\/rerank$/, handle: rerank },
];
