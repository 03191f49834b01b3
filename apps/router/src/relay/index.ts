// The relay's public surface: the canonical model, one adapter per wire format, the demo channel, and
// the SSE parser. Everything here is pure (no Nest, no I/O), so it is cheap on the hot path and tested
// in isolation.

import type { WireFormat } from './canonical';
import { anthropicMessagesAdapter } from './wire/anthropic-messages.adapter';
import { geminiAdapter } from './wire/gemini.adapter';
import { openAiChatAdapter } from './wire/openai-chat.adapter';
import type { WireAdapter } from './wire/wire-adapter';

export * from './canonical';
export * from './relay.errors';
export type * from './wire/wire-adapter';
export { DemoProvider } from './demo/demo.provider';
export { formatSse, SSE_CONTENT_TYPE, SseParser, type SseEvent } from './sse';
export { anthropicMessagesAdapter, geminiAdapter, openAiChatAdapter };

export const wireAdapters: Readonly<Record<WireFormat, WireAdapter>> = {
  openai: openAiChatAdapter,
  anthropic: anthropicMessagesAdapter,
  gemini: geminiAdapter,
};
export {
  addCostToResponse,
  RawSseSplitter,
  relayPassThroughEvent,
  type PassThroughOptions,
  type RawSseEvent,
} from './passthrough';
export { countRequestTokens, countTextTokens } from './tokenizer';
export { codecOfWireAdapter, type UpstreamByteStreamDecoder, type UpstreamCodec } from './upstream-codec';
