// The one internal shape every wire format is translated to and from. Each adapter maps its format onto
// these types in both directions, so supporting N formats needs N adapters instead of N×M translators.

/** The three wire formats the gateway speaks, both to clients and to upstream channels. */
export type WireFormat = 'openai' | 'anthropic' | 'gemini';

export interface TextPart {
  type: 'text';
  text: string;
}

export type ImageSource = { kind: 'url'; url: string } | { kind: 'base64'; mediaType: string; data: string };

export interface ImagePart {
  type: 'image';
  source: ImageSource;
  /** OpenAI's `image_url.detail`; other formats have no equivalent and ignore it. */
  detail?: 'auto' | 'low' | 'high';
}

/**
 * A signature is an opaque token a provider attaches to reasoning (Anthropic `thinking.signature`, Gemini
 * `thoughtSignature`). Only the provider that issued it can verify it, so encoders replay it to their own
 * format and drop it for every other one.
 */
export interface ProviderSignature {
  format: WireFormat;
  value: string;
}

export interface ToolCallPart {
  type: 'tool_call';
  id: string;
  name: string;
  /** The arguments as a JSON string (OpenAI's representation), even when the provider sent an object. */
  arguments: string;
  signature?: ProviderSignature;
}

export interface ToolResultPart {
  type: 'tool_result';
  toolCallId: string;
  content: string | Array<TextPart | ImagePart | OpaquePart>;
  isError?: boolean;
}

export interface ReasoningPart {
  type: 'reasoning';
  text: string;
  signature?: ProviderSignature;
}

/**
 * A content part the canonical model cannot express (audio, documents, redacted thinking, server-tool
 * blocks…). It is kept verbatim so the same format can replay it; an encoder of another format rejects the
 * request instead of silently dropping what the customer sent.
 */
export interface OpaquePart {
  type: 'opaque';
  format: WireFormat;
  /** The part's type in its own format, for error messages (e.g. `input_audio`, `document`). */
  kind: string;
  value: unknown;
}

export type CanonicalPart = TextPart | ImagePart | ToolCallPart | ToolResultPart | ReasoningPart | OpaquePart;

export type CanonicalRole = 'system' | 'user' | 'assistant' | 'tool';

/**
 * Roles and the parts they carry: `system` text; `user` text/image/opaque; `assistant`
 * text/reasoning/tool_call/opaque; `tool` tool_result only.
 */
export interface CanonicalMessage {
  role: CanonicalRole;
  content: CanonicalPart[];
}

export interface CanonicalTool {
  name: string;
  description?: string;
  /** JSON Schema of the arguments object. */
  parameters?: Record<string, unknown>;
  strict?: boolean;
  /**
   * A provider's built-in tool (Anthropic web search, Gemini googleSearch…), kept verbatim. Only an
   * encoder of the same format can send it; the others reject the request.
   */
  builtin?: { format: WireFormat; definition: Record<string, unknown> };
}

export type CanonicalToolChoice = 'auto' | 'none' | 'required' | { name: string };

export type CanonicalResponseFormat =
  | { type: 'text' | 'json_object' }
  | { type: 'json_schema'; name?: string; schema: unknown; strict?: boolean };

export type ReasoningEffort = 'low' | 'medium' | 'high';

export interface CanonicalReasoning {
  enabled: boolean;
  budgetTokens?: number;
  effort?: ReasoningEffort;
}

export interface CanonicalRequest {
  model: string;
  /** Leading system/developer instructions. Later system messages stay in `messages` with role `system`. */
  system?: string;
  messages: CanonicalMessage[];
  maxTokens?: number;
  temperature?: number;
  topP?: number;
  topK?: number;
  seed?: number;
  stop?: string[];
  stream: boolean;
  /** The client asked for a usage chunk in its stream (OpenAI `stream_options.include_usage`). */
  streamUsage?: boolean;
  tools?: CanonicalTool[];
  toolChoice?: CanonicalToolChoice;
  /** `false` forbids several tool calls in one turn; undefined leaves the provider's default. */
  parallelToolCalls?: boolean;
  responseFormat?: CanonicalResponseFormat;
  reasoning?: CanonicalReasoning;
  user?: string;
  /**
   * Top-level parameters of the client's format that the canonical model does not know. Only an encoder
   * of the same format merges them back (a new provider parameter must not be lost on a same-format hop);
   * other formats cannot interpret them and ignore them.
   */
  extra?: { format: WireFormat; params: Record<string, unknown> };
}

export type StopReason =
  'end_turn' | 'max_tokens' | 'tool_use' | 'stop_sequence' | 'content_filter' | 'error';

/**
 * Token usage of one request, split into disjoint buckets so each is priced exactly once:
 *
 *   total input  = inputTokens + cacheReadTokens + cacheWrite5mTokens + cacheWrite1hTokens
 *   total output = outputTokens            (reasoningTokens is a subset of it, never added on top)
 *
 * - `inputTokens`: input billed at the base input price — neither read from nor written to a cache.
 * - `cacheReadTokens`: input served from a prompt cache.
 * - `cacheWrite5mTokens` / `cacheWrite1hTokens`: input written to a cache with a 5-minute / 1-hour TTL.
 * - `outputTokens`: every billed output token, reasoning included.
 * - `reasoningTokens`: the part of `outputTokens` spent thinking (reporting only).
 *
 * How each provider maps (see each adapter's usage functions and their golden tests):
 * - OpenAI: `prompt_tokens` INCLUDES `prompt_tokens_details.cached_tokens`, so
 *   inputTokens = prompt_tokens − cached_tokens and cacheReadTokens = cached_tokens. `completion_tokens`
 *   INCLUDES `completion_tokens_details.reasoning_tokens`, so outputTokens = completion_tokens.
 * - Anthropic: `input_tokens` EXCLUDES cache reads and writes, so inputTokens = input_tokens,
 *   cacheReadTokens = cache_read_input_tokens, cache writes come from `cache_creation.ephemeral_5m/1h_input_tokens`
 *   (any part of `cache_creation_input_tokens` without a TTL breakdown counts as 5m, the default TTL).
 *   outputTokens = output_tokens, which includes thinking.
 * - Gemini: `promptTokenCount` INCLUDES `cachedContentTokenCount` but EXCLUDES `toolUsePromptTokenCount`, so
 *   inputTokens = promptTokenCount − cachedContentTokenCount + toolUsePromptTokenCount. `candidatesTokenCount`
 *   EXCLUDES `thoughtsTokenCount`, so outputTokens = candidatesTokenCount + thoughtsTokenCount.
 */
export interface CanonicalUsage {
  inputTokens: number;
  outputTokens: number;
  cacheReadTokens: number;
  cacheWrite5mTokens: number;
  cacheWrite1hTokens: number;
  reasoningTokens: number;
}

export type CanonicalOutputPart = TextPart | ReasoningPart | ToolCallPart;

export interface CanonicalResponse {
  id: string;
  model: string;
  /** Unix seconds; encoders use the current time when absent. */
  created?: number;
  content: CanonicalOutputPart[];
  stopReason: StopReason;
  /**
   * Undefined when the upstream reported no usage. That is "unknown", never 0: the caller counts locally
   * (or estimates) and sets it before billing and before encoding the client's answer.
   */
  usage?: CanonicalUsage;
}

/**
 * One step of a streamed answer, whatever the upstream format.
 *
 * - `start` comes first. `index` on tool-call events is the ordinal of the tool call in the answer
 *   (0, 1, …), not a provider's content-block index.
 * - `usage` may come several times; each one carries the cumulative usage known so far, so the LAST one
 *   wins (never sum them). A stream with no `usage` event has unknown usage — never assume 0.
 * - `finish` comes once, when the model stops; a `usage` event may still follow it (OpenAI sends usage in
 *   a chunk after the finish reason).
 * - `error` ends the stream: an upstream error event, or a stream that closed without finishing.
 */
export type CanonicalStreamEvent =
  | { type: 'start'; id: string; model: string }
  | { type: 'text-delta'; text: string }
  | { type: 'reasoning-delta'; text: string }
  | { type: 'tool-call-start'; index: number; id: string; name: string }
  | { type: 'tool-call-delta'; index: number; argumentsDelta: string }
  | { type: 'usage'; usage: CanonicalUsage }
  | { type: 'finish'; stopReason: StopReason }
  | { type: 'error'; status?: number; errorType: string; message: string };

export function emptyUsage(): CanonicalUsage {
  return {
    inputTokens: 0,
    outputTokens: 0,
    cacheReadTokens: 0,
    cacheWrite5mTokens: 0,
    cacheWrite1hTokens: 0,
    reasoningTokens: 0,
  };
}

/** Every input token, whatever its price bucket. */
export function totalInputTokens(usage: CanonicalUsage): number {
  return usage.inputTokens + usage.cacheReadTokens + usage.cacheWrite5mTokens + usage.cacheWrite1hTokens;
}
