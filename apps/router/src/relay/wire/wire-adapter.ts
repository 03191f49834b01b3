// The contract every wire format implements, once, in both directions: as the gateway's client surface
// (decode the customer's request, encode our answer) and as an upstream channel (encode the request we
// send, decode what the provider answers). Translating format A to format B is always
// `A.decodeRequest → B.encodeUpstreamRequest` and `B.decode… → A.encode…`.

import type {
  CanonicalRequest,
  CanonicalResponse,
  CanonicalStreamEvent,
  CanonicalUsage,
  WireFormat,
} from '../canonical';

export interface DecodeContext {
  /** Gemini puts the model in the path (`/v1beta/models/{model}:generateContent`). */
  modelFromPath?: string;
  /** Gemini chooses streaming by path (`:streamGenerateContent`), not by a body field. */
  streamFromPath?: boolean;
}

export interface EncodeResponseOptions {
  /**
   * The request's price in USD. When given, the body carries it as `usage.cost` (OpenAI, as OpenRouter
   * does), `usage.cost` (Anthropic) and `usageMetadata.cost` (Gemini). Official SDKs ignore unknown
   * usage fields, so clients that do not know it are unaffected.
   */
  costUsd?: number;
}

export interface StreamEncoderOptions {
  /** Overrides the id of the upstream's `start` event (e.g. to show the gateway's request id). */
  id?: string;
  /** Overrides the model of the upstream's `start` event (show the name the customer asked for). */
  model?: string;
  /** Unix seconds for OpenAI's `created`; defaults to now. */
  created?: number;
}

export interface StreamEndOptions {
  /** Final usage; defaults to the last `usage` event encoded. Omitted usage is reported as unknown, not 0. */
  usage?: CanonicalUsage;
  costUsd?: number;
}

/** An error the gateway reports to a client, whether it produced it or an upstream did. */
export interface GatewayError {
  status: number;
  /** The gateway's machine-readable code (`invalid_request_error`, `insufficient_balance`, …). */
  code: string;
  message: string;
  /** For errors relayed from an upstream: the provider's own error type. */
  upstreamType?: string;
  /** The request field at fault, when known. */
  param?: string;
}

export interface StreamEncoder {
  /** The Content-Type of the streamed response. */
  readonly contentType: string;
  /** SSE text to write for one event; '' when the event produces nothing (yet). */
  encode(event: CanonicalStreamEvent): string;
  /**
   * The terminator: OpenAI's final usage chunk (when the client asked for it) and `data: [DONE]`;
   * Anthropic's `message_delta` + `message_stop`; Gemini's last chunk with finishReason and usageMetadata.
   * Returns '' after `error`, which already terminated the stream.
   */
  end(opts?: StreamEndOptions): string;
  /** A mid-stream error event in the client's format; it terminates the stream. */
  error(err: GatewayError): string;
}

export interface UpstreamRequest {
  /**
   * Path relative to the channel's base URL (as the provider's SDK takes it: OpenAI-style ending in /v1,
   * Anthropic and Gemini the host root), with query string if any.
   */
  path: string;
  body: Record<string, unknown>;
  /** Format-specific headers (never credentials: the channel layer adds those). */
  headers?: Record<string, string>;
  /** A body sent as is instead of `body` as JSON (multipart uploads), with its content type. */
  rawBody?: { data: Buffer; contentType: string };
}

export interface UpstreamStreamDecoder {
  /** Feeds decoded text in whatever pieces the network delivered. */
  push(chunk: string): CanonicalStreamEvent[];
  /** The upstream closed the connection; reports an error event if the stream had not finished. */
  end(): CanonicalStreamEvent[];
}

/** The provider's own classification, kept so the client sees what really went wrong. */
export interface UpstreamError {
  type: string;
  message: string;
}

/**
 * Reads usage from a stream that is relayed byte-for-byte (client format == channel format), without
 * re-serialising anything: it only remembers the raw events that can hold usage and parses them once.
 */
export interface StreamUsageSniffer {
  push(chunk: string): void;
  /** `completed` says whether the upstream sent its terminal event; usage is undefined when never sent. */
  result(): { usage?: CanonicalUsage; completed: boolean };
}

export interface WireAdapter {
  readonly format: WireFormat;

  // Client side: the gateway's surface in this format.
  decodeRequest(body: unknown, ctx?: DecodeContext): CanonicalRequest;
  encodeResponse(res: CanonicalResponse, opts?: EncodeResponseOptions): Record<string, unknown>;
  createStreamEncoder(req: CanonicalRequest, opts?: StreamEncoderOptions): StreamEncoder;
  encodeError(err: GatewayError): Record<string, unknown>;

  // Upstream side: a channel that speaks this format.
  encodeUpstreamRequest(req: CanonicalRequest, upstreamModel: string): UpstreamRequest;
  decodeUpstreamResponse(json: unknown): CanonicalResponse;
  createUpstreamStreamDecoder(): UpstreamStreamDecoder;
  decodeUpstreamError(status: number, bodyText: string): UpstreamError;

  // Pass-through: same format on both sides, bytes relayed untouched, usage still billed.
  extractUsageFromResponse(json: unknown): CanonicalUsage | undefined;
  createStreamUsageSniffer(): StreamUsageSniffer;
}
