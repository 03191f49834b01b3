// What the relay needs from any upstream format, including the ones that are never a client surface
// (Bedrock Converse, with its binary event stream). The three wire adapters provide it directly; their
// stream decoders read text, so bytes are decoded with one streaming TextDecoder (multi-byte characters
// split across network chunks survive).

import type { CanonicalRequest, CanonicalResponse, CanonicalStreamEvent } from './canonical';
import type { UpstreamError, UpstreamRequest, WireAdapter } from './wire/wire-adapter';

export interface UpstreamByteStreamDecoder {
  push(chunk: Uint8Array): CanonicalStreamEvent[];
  end(): CanonicalStreamEvent[];
}

export interface UpstreamCodec {
  encodeUpstreamRequest(req: CanonicalRequest, upstreamModel: string): UpstreamRequest;
  decodeUpstreamResponse(json: unknown): CanonicalResponse;
  createStreamDecoder(): UpstreamByteStreamDecoder;
  decodeUpstreamError(status: number, bodyText: string): UpstreamError;
}

export function codecOfWireAdapter(adapter: WireAdapter): UpstreamCodec {
  return {
    encodeUpstreamRequest: (req, model) => adapter.encodeUpstreamRequest(req, model),
    decodeUpstreamResponse: (json) => adapter.decodeUpstreamResponse(json),
    decodeUpstreamError: (status, text) => adapter.decodeUpstreamError(status, text),
    createStreamDecoder: () => {
      const text = new TextDecoder();
      const decoder = adapter.createUpstreamStreamDecoder();
      return {
        push: (chunk) => decoder.push(text.decode(chunk, { stream: true })),
        end: () => [...decoder.push(text.decode()), ...decoder.end()],
      };
    },
  };
}
