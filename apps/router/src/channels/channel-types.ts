// Every kind of upstream channel ToRouter can hold credentials for: which wire format it speaks, where it
// lives by default, and what its credentials look like. A channel's `baseUrl` overrides the default and
// takes the form the provider's own SDK takes (OpenAI-style ending in /v1; Anthropic and Gemini the host root).

export const channelTypes = [
  'openai',
  'anthropic',
  'gemini',
  'openrouter',
  'deepseek',
  'qwen',
  'bedrock',
  'replicate',
  'openai-compatible',
  'demo',
] as const;
export type ChannelType = (typeof channelTypes)[number];

/** How the gateway talks to a channel. `openai` covers every OpenAI-compatible API. */
export type UpstreamWire = 'openai' | 'anthropic' | 'gemini' | 'bedrock' | 'replicate' | 'demo';

export interface ChannelTypeSpec {
  wire: UpstreamWire;
  /** Used when the channel has no baseUrl; `{region}` is filled from Bedrock credentials. */
  defaultBaseUrl?: string;
  credentials: 'apiKey' | 'aws' | 'none';
  /** OpenAI-compatible APIs that only know the older `max_tokens` (not `max_completion_tokens`). */
  legacyMaxTokens?: boolean;
  /** Accepts vendor-prefixed model ids (`anthropic/claude-…`) and serves them as sent. */
  vendorPrefixedModels?: boolean;
}

export const channelTypeSpecs: Readonly<Record<ChannelType, ChannelTypeSpec>> = {
  openai: { wire: 'openai', defaultBaseUrl: 'https://api.openai.com/v1', credentials: 'apiKey' },
  openrouter: {
    wire: 'openai',
    defaultBaseUrl: 'https://openrouter.ai/api/v1',
    credentials: 'apiKey',
    vendorPrefixedModels: true,
  },
  deepseek: {
    wire: 'openai',
    defaultBaseUrl: 'https://api.deepseek.com/v1',
    credentials: 'apiKey',
    legacyMaxTokens: true,
  },
  qwen: {
    wire: 'openai',
    defaultBaseUrl: 'https://dashscope-intl.aliyuncs.com/compatible-mode/v1',
    credentials: 'apiKey',
    legacyMaxTokens: true,
  },
  'openai-compatible': { wire: 'openai', credentials: 'apiKey', legacyMaxTokens: true },
  anthropic: { wire: 'anthropic', defaultBaseUrl: 'https://api.anthropic.com', credentials: 'apiKey' },
  gemini: {
    wire: 'gemini',
    defaultBaseUrl: 'https://generativelanguage.googleapis.com',
    credentials: 'apiKey',
  },
  bedrock: {
    wire: 'bedrock',
    defaultBaseUrl: 'https://bedrock-runtime.{region}.amazonaws.com',
    credentials: 'aws',
  },
  replicate: { wire: 'replicate', defaultBaseUrl: 'https://api.replicate.com/v1', credentials: 'apiKey' },
  demo: { wire: 'demo', credentials: 'none' },
};

export function isChannelType(value: string): value is ChannelType {
  return (channelTypes as readonly string[]).includes(value);
}

/** Decrypted channel credentials, as the admin API accepts them. */
export type ChannelCredentials =
  | { apiKey: string }
  | { accessKeyId: string; secretAccessKey: string; region: string; sessionToken?: string }
  | Record<string, never>;

/** The base URL requests go to, without a trailing slash; undefined when the type needs one and has none. */
export function effectiveBaseUrl(
  type: ChannelType,
  baseUrl: string | null,
  credentials: ChannelCredentials,
): string | undefined {
  const raw = baseUrl ?? channelTypeSpecs[type].defaultBaseUrl;
  if (!raw) return undefined;
  const region = 'region' in credentials ? credentials.region : '';
  return raw.replace('{region}', region).replace(/\/+$/, '');
}
