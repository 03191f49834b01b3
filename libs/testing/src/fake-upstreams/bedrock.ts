// Fake Amazon Bedrock Runtime: Converse (`POST /model/{modelId}/converse`, JSON) and ConverseStream
// (`/converse-stream`, an AWS event stream: binary frames with typed headers and CRC32s, encoded with
// @smithy/eventstream-codec as the real service does). Requests must carry SigV4 headers
// (`authorization: AWS4-HMAC-SHA256 Credential=<key>/<date>/<region>/bedrock/aws4_request, …`,
// `x-amz-date`). Shapes follow @aws-sdk/client-bedrock-runtime's ConverseResponse / ConverseStreamOutput.
import { EventStreamCodec } from '@smithy/eventstream-codec';
import { fromUtf8, toUtf8 } from '@smithy/util-utf8';
import type { ServerResponse } from 'node:http';
import { asRecord, headerValue, isWritable, sendJson, sleep } from './http';
import { collectText, planReply, splitText } from './reply';
import type { HandlerContext, ProviderAdapter, Route } from './server';
import type { FakeUsage } from './types';

const codec = new EventStreamCodec(toUtf8, fromUtf8);

// The exception Bedrock names (x-amzn-errortype) for each status.
const EXCEPTIONS: Record<number, string> = {
  400: 'ValidationException',
  403: 'AccessDeniedException',
  404: 'ResourceNotFoundException',
  408: 'ModelTimeoutException',
  424: 'ModelErrorException',
  429: 'ThrottlingException',
  500: 'InternalServerException',
  503: 'ServiceUnavailableException',
};

const SIGV4 =
  /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([a-z0-9-]+)\/bedrock\/aws4_request, ?SignedHeaders=([a-z0-9;-]+), ?Signature=[0-9a-f]{64}$/;

function route(action: string, handle: Route['handle']): Route {
  return {
    method: 'POST',
    pattern: new RegExp(`^/model/([^/]+)/${action}$`),
    paramNames: ['modelId'],
    streams: () => action === 'converse-stream',
    handle,
  };
}

export const bedrockAdapter: ProviderAdapter = {
  provider: 'bedrock',
  basePath: '',
  routes: [route('converse', converse), route('converse-stream', converseStream)],
  authError(req) {
    const auth = headerValue(req.headers, 'authorization') ?? '';
    const match = SIGV4.exec(auth);
    if (!match || !headerValue(req.headers, 'x-amz-date')) {
      return {
        status: 403,
        type: 'UnrecognizedClientException',
        message: 'The security token included in the request is invalid.',
      };
    }
    if (!match[4].split(';').includes('host') || !match[4].split(';').includes('x-amz-date')) {
      return {
        status: 403,
        type: 'InvalidSignatureException',
        message: 'host and x-amz-date must be signed',
      };
    }
    return undefined;
  },
  notFound(req) {
    return {
      status: 404,
      type: 'UnknownOperationException',
      message: `Unknown operation ${req.method} ${req.path}`,
    };
  },
  errorBody(error) {
    return { message: error.message ?? `Fake Bedrock error (HTTP ${error.status})` };
  },
};

/** The exception name for an error status, as the fake puts it in `x-amzn-errortype`. */
export function bedrockExceptionName(status: number): string {
  return EXCEPTIONS[status] ?? (status >= 500 ? 'InternalServerException' : 'ValidationException');
}

function bedrockUsage(usage: Required<FakeUsage>): Record<string, unknown> {
  return {
    inputTokens: usage.inputTokens,
    outputTokens: usage.outputTokens,
    totalTokens: usage.inputTokens + usage.outputTokens + usage.cacheReadTokens + usage.cacheWriteTokens,
    ...(usage.cacheReadTokens ? { cacheReadInputTokens: usage.cacheReadTokens } : {}),
    ...(usage.cacheWriteTokens ? { cacheWriteInputTokens: usage.cacheWriteTokens } : {}),
  };
}

function plan(ctx: HandlerContext) {
  const body = asRecord(ctx.req.json);
  const messages = Array.isArray(body.messages) ? body.messages : [];
  let lastUser = '';
  for (const m of messages)
    if (asRecord(m).role === 'user') lastUser = collectText(asRecord(m).content).join(' ');
  const inputText = [
    ...collectText(body.system),
    ...messages.flatMap((m) => collectText(asRecord(m).content)),
  ].join('\n');
  return { body, reply: planReply('bedrock', ctx.behavior, inputText, lastUser) };
}

function validate(ctx: HandlerContext, body: Record<string, unknown>): boolean {
  if (!Array.isArray(body.messages) || body.messages.length === 0) {
    ctx.sendError({ status: 400, message: 'The messages field is required and must not be empty.' });
    return false;
  }
  return true;
}

async function converse(ctx: HandlerContext): Promise<void> {
  const { body, reply } = plan(ctx);
  if (!validate(ctx, body)) return;
  const content =
    reply.kind === 'tool'
      ? [
          {
            toolUse: {
              toolUseId: ctx.ids.next('tooluse_fake_'),
              name: reply.call.name,
              input: reply.call.arguments,
            },
          },
        ]
      : [{ text: reply.text }];
  sendJson(ctx.res, 200, {
    output: { message: { role: 'assistant', content } },
    stopReason: reply.kind === 'tool' ? 'tool_use' : 'end_turn',
    ...(ctx.behavior.omitUsage ? {} : { usage: bedrockUsage(reply.usage) }),
    metrics: { latencyMs: 42 },
  });
}

/** One event-stream frame, as ConverseStream sends it. */
export function bedrockFrame(eventType: string, payload: Record<string, unknown>): Uint8Array {
  return codec.encode({
    headers: {
      ':event-type': { type: 'string', value: eventType },
      ':content-type': { type: 'string', value: 'application/json' },
      ':message-type': { type: 'string', value: 'event' },
    },
    body: fromUtf8(JSON.stringify(payload)),
  });
}

/** Decodes every frame of a ConverseStream body (for the fake's own spec and router tests). */
export function decodeBedrockFrames(
  bytes: Uint8Array,
): Array<{ headers: Record<string, string>; payload: unknown }> {
  const out: Array<{ headers: Record<string, string>; payload: unknown }> = [];
  let pos = 0;
  while (pos + 4 <= bytes.length) {
    const total = new DataView(bytes.buffer, bytes.byteOffset + pos, 4).getUint32(0, false);
    const message = codec.decode(bytes.subarray(pos, pos + total));
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(message.headers)) headers[k] = String(v.value);
    out.push({ headers, payload: JSON.parse(toUtf8(message.body)) as unknown });
    pos += total;
  }
  return out;
}

async function converseStream(ctx: HandlerContext): Promise<void> {
  const { body, reply } = plan(ctx);
  if (!validate(ctx, body)) return;
  const frames: Array<[string, Record<string, unknown>]> = [['messageStart', { role: 'assistant' }]];
  if (reply.kind === 'tool') {
    frames.push([
      'contentBlockStart',
      {
        contentBlockIndex: 0,
        start: { toolUse: { toolUseId: ctx.ids.next('tooluse_fake_'), name: reply.call.name } },
      },
    ]);
    for (const piece of splitText(reply.argumentsJson, ctx.behavior.streamChunks)) {
      frames.push(['contentBlockDelta', { contentBlockIndex: 0, delta: { toolUse: { input: piece } } }]);
    }
  } else {
    for (const piece of splitText(reply.text, ctx.behavior.streamChunks)) {
      frames.push(['contentBlockDelta', { contentBlockIndex: 0, delta: { text: piece } }]);
    }
  }
  frames.push(['contentBlockStop', { contentBlockIndex: 0 }]);
  frames.push(['messageStop', { stopReason: reply.kind === 'tool' ? 'tool_use' : 'end_turn' }]);
  frames.push([
    'metadata',
    { ...(ctx.behavior.omitUsage ? {} : { usage: bedrockUsage(reply.usage) }), metrics: { latencyMs: 42 } },
  ]);
  await writeFrames(ctx, frames);
}

async function writeFrames(
  ctx: HandlerContext,
  frames: Array<[string, Record<string, unknown>]>,
): Promise<void> {
  const res: ServerResponse = ctx.res;
  const cutAt = ctx.behavior.cutAfterChunks;
  if (!isWritable(res)) return;
  if (cutAt !== undefined && cutAt <= 0) {
    res.destroy();
    return;
  }
  res.writeHead(200, {
    'content-type': 'application/vnd.amazon.eventstream',
    'x-amzn-requestid': ctx.ids.next('req-fake-'),
  });
  let sent = 0;
  for (const [type, payload] of frames) {
    if (sent > 0 && ctx.behavior.chunkDelayMs) {
      if (!(await sleep(ctx.behavior.chunkDelayMs, ctx.signal))) return;
    }
    if (!isWritable(res)) return;
    sent += 1;
    if (cutAt !== undefined && sent >= cutAt) {
      res.write(bedrockFrame(type, payload), () => res.destroy());
      return;
    }
    res.write(bedrockFrame(type, payload));
  }
  res.end();
}
