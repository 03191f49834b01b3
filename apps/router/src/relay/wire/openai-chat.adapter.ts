// The OpenAI Chat Completions wire format (`/v1/chat/completions`), as client surface and as channel.

import { isObject } from './fields';
import { decodeOpenAiRequest, encodeOpenAiUpstreamRequest } from './openai-chat.request';
import {
  decodeOpenAiError,
  decodeOpenAiResponse,
  encodeOpenAiError,
  encodeOpenAiResponse,
  openAiUsageToCanonical,
} from './openai-chat.response';
import { OpenAiStreamDecoder, OpenAiStreamEncoder, OpenAiUsageSniffer } from './openai-chat.stream';
import type { WireAdapter } from './wire-adapter';

export const openAiChatAdapter: WireAdapter = {
  format: 'openai',
  decodeRequest: decodeOpenAiRequest,
  encodeResponse: encodeOpenAiResponse,
  createStreamEncoder: (req, opts) => new OpenAiStreamEncoder(req, opts),
  encodeError: encodeOpenAiError,
  encodeUpstreamRequest: encodeOpenAiUpstreamRequest,
  decodeUpstreamResponse: decodeOpenAiResponse,
  createUpstreamStreamDecoder: () => new OpenAiStreamDecoder(),
  decodeUpstreamError: decodeOpenAiError,
  extractUsageFromResponse: (json) => (isObject(json) ? openAiUsageToCanonical(json.usage) : undefined),
  createStreamUsageSniffer: () => new OpenAiUsageSniffer(),
};
