// Public types of the fake upstream servers. Router tests import these through index.ts.

export type FakeProvider = 'openai' | 'anthropic' | 'gemini' | 'bedrock' | 'replicate';

/** One request exactly as it reached the fake, captured before any behavior is applied. */
export interface RecordedRequest {
  method: string;
  /** URL path without the query string, e.g. `/v1/chat/completions`. */
  path: string;
  query: Record<string, string>;
  /** Node's lower-cased header map, so `headers['x-api-key']` works whatever case the client used. */
  headers: Record<string, string | string[] | undefined>;
  rawBody: string;
  /** `JSON.parse(rawBody)`, or undefined when the body is empty or not JSON. */
  json: unknown;
  /** `Date.now()` when the request line arrived. */
  receivedAt: number;
}

/** Token counts a test wants reported. Each value is written verbatim into the provider's own field. */
export interface FakeUsage {
  inputTokens?: number;
  outputTokens?: number;
  cacheReadTokens?: number;
  cacheWriteTokens?: number;
  reasoningTokens?: number;
}

export interface FakeError {
  status: number;
  /** Provider error type: OpenAI `error.type`, Anthropic `error.type`, Gemini `error.status`. */
  type?: string;
  message?: string;
  /** Adds a `Retry-After` header (seconds). */
  retryAfterSeconds?: number;
}

export interface FakeToolCall {
  name: string;
  arguments: Record<string, unknown>;
}

export interface FakeBehavior {
  /** Delay before the response headers. */
  latencyMs?: number;
  /** Delay between SSE events. */
  chunkDelayMs?: number;
  /** Assistant text; default `Hello from fake-${provider}: ${first 40 chars of the last user text}`. */
  replyText?: string;
  /** Number of content chunks a stream splits the text (or tool arguments) into; default 16. */
  streamChunks?: number;
  /** Override reported usage; default: deterministic counts from text length (ceil(chars / 4)). */
  usage?: FakeUsage;
  /** Send no usage at all (stream and non-stream). */
  omitUsage?: boolean;
  /** Answer every request with this provider-format error. */
  error?: FakeError;
  /** With `error`: only the first N requests fail, then normal answers. */
  failTimes?: number;
  /** Accept the request and never answer (timeout tests). */
  hang?: boolean;
  /** 200 with a malformed body (non-JSON; for streams, an SSE event whose data is not JSON). */
  garbage?: boolean;
  /** Streaming: destroy the socket after N SSE events (every event counts, pings and [DONE] included). */
  cutAfterChunks?: number;
  /** Answer with a tool call instead of text, in the provider's format. */
  toolCall?: FakeToolCall;
}

export interface FakeUpstream {
  provider: FakeProvider;
  /** `http://127.0.0.1:PORT`, the host root. */
  url: string;
  /**
   * What the provider's SDK takes as base URL: OpenAI `${url}/v1`, Anthropic, Gemini and Bedrock `${url}`,
   * Replicate `${url}/v1`.
   */
  baseUrl: string;
  /** Every request received since start or the last reset(), oldest first. */
  requests: RecordedRequest[];
  /** Replaces the whole behavior (no merge) and restarts the `failTimes` count. */
  setBehavior(behavior: FakeBehavior): void;
  /** Clears requests and behavior. */
  reset(): void;
  /** Stops listening and destroys every open socket, hanging requests included. */
  close(): Promise<void>;
}
