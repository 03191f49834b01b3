// The Anthropic Messages wire format (`/v1/messages`), as client surface and as channel.

import { decodeAnthropicRequest, encodeAnthropicUpstreamRequest } from './anthropic-messages.request';
import {
  anthropicUsageToCanonical,
  decodeAnthropicError,
  decodeAnthropicResponse,
  encodeAnthropicError,
  encodeAnthropicResponse,
} from './anthropic-messages.response';
import {
  AnthropicStreamDecoder,
  AnthropicStreamEncoder,
  AnthropicUsageSniffer,
} from './anthropic-messages.stream';
import { isObject } from './fields';
import type { WireAdapter } from './wire-adapter';

export const anthropicMessagesAdapter: WireAdapter = {
  format: 'anthropic',
  decodeRequest: decodeAnthropicRequest,
  encodeResponse: encodeAnthropicResponse,
  createStreamEncoder: (req, opts) => new AnthropicStreamEncoder(req, opts),
  encodeError: encodeAnthropicError,
  encodeUpstreamRequest: encodeAnthropicUpstreamRequest,
  decodeUpstreamResponse: decodeAnthropicResponse,
  createUpstreamStreamDecoder: () => new AnthropicStreamDecoder(),
  decodeUpstreamError: decodeAnthropicError,
  extractUsageFromResponse: (json) => (isObject(json) ? anthropicUsageToCanonical(json.usage) : undefined),
  createStreamUsageSniffer: () => new AnthropicUsageSniffer(),
};
