import type { ModelEntity } from './model.entity';

/** Name of the built-in channel that answers without any provider credentials. */
export const DEMO_CHANNEL_NAME = 'demo';

type SeedModel = Pick<
  ModelEntity,
  | 'id'
  | 'vendor'
  | 'modality'
  | 'inputMicroUsdPerMTok'
  | 'outputMicroUsdPerMTok'
  | 'cacheReadMicroUsdPerMTok'
  | 'cacheWrite5mMicroUsdPerMTok'
  | 'cacheWrite1hMicroUsdPerMTok'
  | 'contextWindow'
  | 'maxOutputTokens'
  | 'supportsThinking'
>;

const usd = (perMTok: number): number => Math.round(perMTok * 1_000_000);

/**
 * The catalog a fresh install starts with: list prices per million tokens (USD), all served by the demo
 * channel until an operator adds real channels. Operators change prices through the admin API.
 */
export const demoModels: SeedModel[] = [
  m('gpt-5', 'openai', 'multimodal', 1.25, 10, 0.125, null, null, 400_000, 128_000, true),
  m('gpt-5-mini', 'openai', 'multimodal', 0.25, 2, 0.025, null, null, 400_000, 128_000, true),
  m('claude-opus-4-7', 'anthropic', 'multimodal', 15, 75, 1.5, 18.75, 30, 200_000, 32_000, true),
  m('claude-sonnet-4-7', 'anthropic', 'multimodal', 3, 15, 0.3, 3.75, 6, 200_000, 64_000, true),
  m('gemini-2.5-pro', 'google', 'multimodal', 1.25, 10, 0.31, null, null, 1_048_576, 65_536, true),
  m('gemini-3-flash-preview', 'google', 'multimodal', 0.3, 2.5, 0.075, null, null, 1_048_576, 65_536, true),
  m('deepseek-v3', 'deepseek', 'text', 0.27, 1.1, 0.07, null, null, 128_000, 8_192, false),
];

function m(
  id: string,
  vendor: string,
  modality: string,
  input: number,
  output: number,
  cacheRead: number | null,
  cacheWrite5m: number | null,
  cacheWrite1h: number | null,
  contextWindow: number,
  maxOutputTokens: number,
  supportsThinking: boolean,
): SeedModel {
  return {
    id,
    vendor,
    modality,
    inputMicroUsdPerMTok: usd(input),
    outputMicroUsdPerMTok: usd(output),
    cacheReadMicroUsdPerMTok: cacheRead === null ? null : usd(cacheRead),
    cacheWrite5mMicroUsdPerMTok: cacheWrite5m === null ? null : usd(cacheWrite5m),
    cacheWrite1hMicroUsdPerMTok: cacheWrite1h === null ? null : usd(cacheWrite1h),
    contextWindow,
    maxOutputTokens,
    supportsThinking,
  };
}
