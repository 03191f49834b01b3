// The Gemini generateContent wire format (`/v1beta/models/{model}:generateContent` and
// `:streamGenerateContent?alt=sse`), as client surface and as channel.

import { isObject } from './fields';
import { decodeGeminiRequest, encodeGeminiUpstreamRequest } from './gemini.request';
import {
  decodeGeminiError,
  decodeGeminiResponse,
  encodeGeminiError,
  encodeGeminiResponse,
  geminiUsageToCanonical,
} from './gemini.response';
import { GeminiStreamDecoder, GeminiStreamEncoder, GeminiUsageSniffer } from './gemini.stream';
import type { WireAdapter } from './wire-adapter';

export const geminiAdapter: WireAdapter = {
  format: 'gemini',
  decodeRequest: decodeGeminiRequest,
  encodeResponse: encodeGeminiResponse,
  createStreamEncoder: (req, opts) => new GeminiStreamEncoder(req, opts),
  encodeError: encodeGeminiError,
  encodeUpstreamRequest: encodeGeminiUpstreamRequest,
  decodeUpstreamResponse: decodeGeminiResponse,
  createUpstreamStreamDecoder: () => new GeminiStreamDecoder(),
  decodeUpstreamError: decodeGeminiError,
  extractUsageFromResponse: (json) =>
    isObject(json) ? geminiUsageToCanonical(json.usageMetadata) : undefined,
  createStreamUsageSniffer: () => new GeminiUsageSniffer(),
};
