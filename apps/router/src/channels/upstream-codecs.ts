import type { UpstreamWire } from './channel-types';
import { codecOfWireAdapter, wireAdapters, type UpstreamCodec } from '../relay';
import { bedrockConverseCodec } from '../relay/upstream/bedrock-converse.codec';

const codecs: Partial<Record<UpstreamWire, UpstreamCodec>> = {
  openai: codecOfWireAdapter(wireAdapters.openai),
  anthropic: codecOfWireAdapter(wireAdapters.anthropic),
  gemini: codecOfWireAdapter(wireAdapters.gemini),
  bedrock: bedrockConverseCodec,
};

/** The request encoder and answer decoders for a channel's wire format. */
export function upstreamCodecFor(wire: UpstreamWire): UpstreamCodec {
  const codec = codecs[wire];
  if (!codec) throw new Error(`no upstream codec for ${wire} channels`);
  return codec;
}
