// Replicate's predictions API as an upstream format for chat: the conversation is flattened into the
// `prompt` / `system_prompt` input language models on Replicate take; the prediction's `output` (a list
// of text pieces) is the answer and `metrics.input_token_count` / `output_token_count` its usage.
// Streams come from a second URL (`urls.stream`) as SSE events `output`, `error` and `done`.

import { randomUUID } from 'node:crypto';
import type {
  CanonicalRequest,
  CanonicalResponse,
  CanonicalStreamEvent,
  CanonicalUsage,
  ImagePart,
} from '../canonical';
import { UnsupportedFeatureError, UpstreamProtocolError } from '../relay.errors';
import { SseParser } from '../sse';
import { isObject, type Json, num, str } from '../wire/fields';
import { imageSourceToUrl } from '../wire/media';
import { combinedSystem } from '../wire/portability';
import { fallbackErrorMessage, incompleteStreamError, parseErrorBody } from '../wire/upstream-errors';
import type { UpstreamError, UpstreamRequest } from '../wire/wire-adapter';

const ROLE_LABEL = { user: 'User', assistant: 'Assistant' } as const;

/** `owner/name` runs the model's latest version; `owner/name:version` (or a bare version id) pins one. */
export function encodeReplicateRequest(req: CanonicalRequest, upstreamModel: string): UpstreamRequest {
  const input: Json = { prompt: flattenConversation(req) };
  const system = combinedSystem(req);
  if (system) input.system_prompt = system;
  if (req.maxTokens !== undefined) input.max_tokens = req.maxTokens;
  if (req.temperature !== undefined) input.temperature = req.temperature;
  if (req.topP !== undefined) input.top_p = req.topP;
  if (req.topK !== undefined) input.top_k = req.topK;
  if (req.seed !== undefined) input.seed = req.seed;
  if (req.stop?.length) input.stop_sequences = req.stop.join(',');
  const image = singleImage(req);
  if (image) input.image = imageSourceToUrl(image.source);
  const body: Json = { input };
  if (req.stream) body.stream = true;
  const [model, version] = upstreamModel.split(':');
  if (version || !model.includes('/')) {
    body.version = version ?? model;
    return { path: '/predictions', body };
  }
  return { path: `/models/${model.split('/').map(encodeURIComponent).join('/')}/predictions`, body };
}

/** One turn: its text. Several: a transcript the model continues as the assistant. */
function flattenConversation(req: CanonicalRequest): string {
  if (req.tools?.length) {
    throw new UnsupportedFeatureError('tools cannot be sent to Replicate channels', 'tools');
  }
  const turns: Array<{ role: 'user' | 'assistant'; text: string }> = [];
  req.messages.forEach((message, i) => {
    if (message.role === 'system') return;
    if (message.role === 'tool') {
      throw new UnsupportedFeatureError(
        `\`messages[${i}]\`: tool results cannot be sent to Replicate channels`,
        `messages[${i}]`,
      );
    }
    const texts: string[] = [];
    message.content.forEach((part, j) => {
      if (part.type === 'text') texts.push(part.text);
      else if (part.type === 'image' || part.type === 'reasoning') return;
      else {
        throw new UnsupportedFeatureError(
          `\`messages[${i}].content[${j}]\` (${part.type}) cannot be sent to Replicate channels`,
          `messages[${i}].content[${j}]`,
        );
      }
    });
    turns.push({ role: message.role, text: texts.join('\n') });
  });
  if (turns.length === 1 && turns[0].role === 'user') return turns[0].text;
  const transcript = turns.map((t) => `${ROLE_LABEL[t.role]}: ${t.text}`).join('\n\n');
  return `${transcript}\n\nAssistant:`;
}

/** Language models on Replicate take at most one `image` input. */
function singleImage(req: CanonicalRequest): ImagePart | undefined {
  const images = req.messages.flatMap((m) => m.content.filter((p): p is ImagePart => p.type === 'image'));
  if (images.length > 1) {
    throw new UnsupportedFeatureError('Replicate channels take at most one image per request', 'messages');
  }
  return images[0];
}

export type PredictionStatus = 'starting' | 'processing' | 'succeeded' | 'failed' | 'canceled' | 'aborted';

export interface Prediction {
  id: string;
  status: PredictionStatus;
  output: unknown;
  error: string | null;
  urls: { get?: string; stream?: string; cancel?: string };
  metrics: Json;
}

export function readPrediction(json: unknown): Prediction {
  if (!isObject(json) || typeof json.status !== 'string') {
    throw new UpstreamProtocolError('the Replicate answer is not a prediction');
  }
  const urls = isObject(json.urls) ? json.urls : {};
  return {
    id: str(json.id) ?? randomUUID(),
    status: json.status as PredictionStatus,
    output: json.output,
    error: str(json.error) ?? (json.error ? JSON.stringify(json.error) : null),
    urls: { get: str(urls.get), stream: str(urls.stream), cancel: str(urls.cancel) },
    metrics: isObject(json.metrics) ? json.metrics : {},
  };
}

export function isTerminal(status: PredictionStatus): boolean {
  return status === 'succeeded' || status === 'failed' || status === 'canceled' || status === 'aborted';
}

export function replicateUsage(metrics: Json): CanonicalUsage | undefined {
  if (typeof metrics.input_token_count !== 'number' && typeof metrics.output_token_count !== 'number')
    return undefined;
  return {
    inputTokens: num(metrics.input_token_count),
    outputTokens: num(metrics.output_token_count),
    cacheReadTokens: 0,
    cacheWrite5mTokens: 0,
    cacheWrite1hTokens: 0,
    reasoningTokens: 0,
  };
}

export function outputText(output: unknown): string {
  if (typeof output === 'string') return output;
  if (Array.isArray(output)) return output.map((piece) => (typeof piece === 'string' ? piece : '')).join('');
  return '';
}

/** A finished prediction as a canonical answer. */
export function predictionToResponse(p: Prediction): CanonicalResponse {
  const res: CanonicalResponse = {
    id: `pred_${p.id}`,
    model: '',
    content: [{ type: 'text', text: outputText(p.output) }],
    stopReason: 'end_turn',
  };
  const usage = replicateUsage(p.metrics);
  if (usage) res.usage = usage;
  return res;
}

export function decodeReplicateError(status: number, bodyText: string): UpstreamError {
  const body = parseErrorBody(bodyText);
  if (isObject(body)) {
    const message = str(body.detail) ?? str(body.error) ?? str(body.title);
    if (message)
      return { type: str(body.title)?.toLowerCase().replace(/\s+/g, '_') ?? `http_${status}`, message };
  }
  return { type: `http_${status}`, message: fallbackErrorMessage(status, bodyText) };
}

/** The `urls.stream` SSE: `output` events carry text, `done` ends, `error` fails. */
export class ReplicateStreamDecoder {
  private readonly sse = new SseParser();
  private readonly text = new TextDecoder();
  private started = false;
  private finished = false;
  private failed = false;

  constructor(private readonly predictionId: string) {}

  push(chunk: Uint8Array): CanonicalStreamEvent[] {
    return this.read(this.sse.push(this.text.decode(chunk, { stream: true })));
  }

  end(): CanonicalStreamEvent[] {
    const out = this.read([...this.sse.push(this.text.decode()), ...this.sse.end()]);
    if (!this.finished && !this.failed) out.push(incompleteStreamError());
    return out;
  }

  get done(): boolean {
    return this.finished;
  }

  private read(events: Array<{ event: string; data: string }>): CanonicalStreamEvent[] {
    const out: CanonicalStreamEvent[] = [];
    for (const event of events) {
      if (this.finished || this.failed) break;
      if (!this.started) {
        this.started = true;
        out.push({ type: 'start', id: `pred_${this.predictionId}`, model: '' });
      }
      if (event.event === 'output') {
        if (event.data) out.push({ type: 'text-delta', text: event.data });
      } else if (event.event === 'done') {
        const payload = parseErrorBody(event.data);
        const reason = isObject(payload) ? str(payload.reason) : undefined;
        if (reason === 'canceled' || reason === 'error') {
          this.failed = true;
          out.push({
            type: 'error',
            status: 502,
            errorType: `prediction_${reason}`,
            message: `the prediction ended: ${reason}`,
          });
        } else {
          this.finished = true;
          out.push({ type: 'finish', stopReason: 'end_turn' });
        }
      } else if (event.event === 'error') {
        this.failed = true;
        const payload = parseErrorBody(event.data);
        out.push({
          type: 'error',
          status: 502,
          errorType: 'prediction_failed',
          message:
            (isObject(payload) ? str(payload.detail) : undefined) ?? (event.data || 'the prediction failed'),
        });
      }
    }
    return out;
  }
}
