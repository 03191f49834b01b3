// Fake upstream LLM providers for router tests: real HTTP servers on 127.0.0.1 speaking each
// provider's wire format, recording every request. See README.md in this folder for the switches.
import { anthropicAdapter } from './anthropic';
import { bedrockAdapter } from './bedrock';
import { geminiAdapter } from './gemini';
import { openaiAdapter } from './openai';
import { replicateAdapter } from './replicate';
import { startServer, type ProviderAdapter } from './server';
import type { FakeBehavior, FakeProvider, FakeUpstream } from './types';

export type {
  FakeBehavior,
  FakeError,
  FakeProvider,
  FakeToolCall,
  FakeUpstream,
  FakeUsage,
  RecordedRequest,
} from './types';
export { parseSse, type SseEvent } from './sse';
export { embeddingVector } from './openai';
export { bedrockExceptionName, bedrockFrame, decodeBedrockFrames } from './bedrock';
export { FAKE_PNG_BASE64, fakeSpeechBytes } from './openai-more';

const ADAPTERS: Record<FakeProvider, ProviderAdapter> = {
  openai: openaiAdapter,
  anthropic: anthropicAdapter,
  gemini: geminiAdapter,
  bedrock: bedrockAdapter,
  replicate: replicateAdapter,
};

/** Starts a fake `provider` API on a random 127.0.0.1 port. Always `close()` it (e.g. in afterAll). */
export function startFakeUpstream(provider: FakeProvider, behavior?: FakeBehavior): Promise<FakeUpstream> {
  return startServer(ADAPTERS[provider], behavior);
}

export const startFakeOpenAI = (behavior?: FakeBehavior): Promise<FakeUpstream> =>
  startFakeUpstream('openai', behavior);
export const startFakeAnthropic = (behavior?: FakeBehavior): Promise<FakeUpstream> =>
  startFakeUpstream('anthropic', behavior);
export const startFakeGemini = (behavior?: FakeBehavior): Promise<FakeUpstream> =>
  startFakeUpstream('gemini', behavior);
export const startFakeBedrock = (behavior?: FakeBehavior): Promise<FakeUpstream> =>
  startFakeUpstream('bedrock', behavior);
export const startFakeReplicate = (behavior?: FakeBehavior): Promise<FakeUpstream> =>
  startFakeUpstream('replicate', behavior);
