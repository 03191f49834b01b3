// Provider payloads for golden tests. Recorded ones are trimmed (long texts and signatures cut) but not
// reshaped; the few built by hand (marked below) follow the documented shapes. Sources:
// - OpenAI: recorded Chat Completions response and stream (vercel/ai packages/openai/src/chat/__fixtures__/
//   openai-text.json, openai-text.chunks.txt); tool-call chunks and the cached/reasoning usage are built
//   from the API reference (ChatCompletionChunk, CompletionUsage).
// - Anthropic: recorded Messages responses and streams (vercel/ai packages/anthropic/src/__fixtures__/
//   issue-13430-thinking-tool-call.json, anthropic-clear-thinking.1.chunks.txt, anthropic-json-tool.1.chunks.txt,
//   anthropic-message-delta-input-tokens.chunks.txt); error shape per docs.claude.com/en/api/errors.
// - Gemini: recorded generateContent responses and streams (vercel/ai packages/google/src/__fixtures__/
//   google-tool-call.json, google-reasoning.chunks.txt, issue-19822-complete-usage.json,
//   google-tool-use-usage.json, google-429-retry-info.json).

export const OPENAI_TEXT_RESPONSE = {
  id: 'chatcmpl-D8Z5f52zQqikDBEKQMQoYcWMcWPeU',
  object: 'chat.completion',
  created: 1770933883,
  model: 'gpt-4.1-nano-2025-04-14',
  choices: [
    {
      index: 0,
      message: { role: 'assistant', content: '**Holiday Name:** Galaxy Day', refusal: null, annotations: [] },
      logprobs: null,
      finish_reason: 'stop',
    },
  ],
  usage: {
    prompt_tokens: 16,
    completion_tokens: 363,
    total_tokens: 379,
    prompt_tokens_details: { cached_tokens: 0, audio_tokens: 0 },
    completion_tokens_details: {
      reasoning_tokens: 0,
      audio_tokens: 0,
      accepted_prediction_tokens: 0,
      rejected_prediction_tokens: 0,
    },
  },
  service_tier: 'default',
  system_fingerprint: 'fp_de604bd877',
};

/** Built by hand: a reasoning model with a prompt-cache hit; cached and reasoning tokens are subsets. */
export const OPENAI_CACHED_REASONING_USAGE = {
  prompt_tokens: 2006,
  completion_tokens: 300,
  total_tokens: 2306,
  prompt_tokens_details: { cached_tokens: 1920, audio_tokens: 0 },
  completion_tokens_details: {
    reasoning_tokens: 192,
    audio_tokens: 0,
    accepted_prediction_tokens: 0,
    rejected_prediction_tokens: 0,
  },
};

const openAiChunk = (delta: object, finish: string | null = null): string =>
  JSON.stringify({
    id: 'chatcmpl-D8Z5oo6uDh67AD85p73ksdT1KxhE0',
    object: 'chat.completion.chunk',
    created: 1770933892,
    model: 'gpt-4.1-nano-2025-04-14',
    service_tier: 'default',
    system_fingerprint: 'fp_de604bd877',
    choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }],
    usage: null,
  });

export const OPENAI_TEXT_CHUNKS = [
  openAiChunk({ role: 'assistant', content: '', refusal: null }),
  openAiChunk({ content: '**' }),
  openAiChunk({ content: 'Holiday' }),
  openAiChunk({ content: ' Name' }),
  openAiChunk({}, 'stop'),
  JSON.stringify({
    id: 'chatcmpl-D8Z5oo6uDh67AD85p73ksdT1KxhE0',
    object: 'chat.completion.chunk',
    created: 1770933892,
    model: 'gpt-4.1-nano-2025-04-14',
    service_tier: 'default',
    system_fingerprint: 'fp_de604bd877',
    choices: [],
    usage: {
      prompt_tokens: 16,
      completion_tokens: 300,
      total_tokens: 316,
      prompt_tokens_details: { cached_tokens: 0, audio_tokens: 0 },
      completion_tokens_details: {
        reasoning_tokens: 0,
        audio_tokens: 0,
        accepted_prediction_tokens: 0,
        rejected_prediction_tokens: 0,
      },
    },
  }),
];

/** Built by hand: two parallel tool calls, arguments streamed in pieces. */
export const OPENAI_TOOL_CHUNKS = [
  openAiChunk({
    role: 'assistant',
    content: null,
    tool_calls: [
      {
        index: 0,
        id: 'call_n64EzCBu9K9VmDVOpVCOz92n',
        type: 'function',
        function: { name: 'get_weather', arguments: '' },
      },
    ],
  }),
  openAiChunk({ tool_calls: [{ index: 0, function: { arguments: '{"loc' } }] }),
  openAiChunk({ tool_calls: [{ index: 0, function: { arguments: 'ation":"Paris"}' } }] }),
  openAiChunk({
    tool_calls: [
      { index: 1, id: 'call_2', type: 'function', function: { name: 'get_time', arguments: '{}' } },
    ],
  }),
  openAiChunk({}, 'tool_calls'),
];

export const ANTHROPIC_THINKING_TOOL_RESPONSE = {
  model: 'claude-sonnet-4-6',
  id: 'msg_011CfWBu94HWxZXjXK6ZhEXM',
  type: 'message',
  role: 'assistant',
  content: [
    {
      type: 'thinking',
      thinking: 'The user wants me to call checkSandboxErrors immediately.',
      signature: 'Eq4CCpIBCBIYAipAM+SGYGx7V1aPBT2LXi5M54elabwLjKMzxMZ7dQBpCn7jCn2ZkTBMgSLasCPWFF',
    },
    {
      type: 'tool_use',
      id: 'toolu_017R7ACrx7NF7sLDDtvdQ1u9',
      name: 'checkSandboxErrors',
      input: {},
      caller: { type: 'direct' },
    },
  ],
  container: null,
  stop_reason: 'tool_use',
  stop_sequence: null,
  stop_details: null,
  usage: {
    input_tokens: 599,
    cache_creation_input_tokens: 0,
    cache_read_input_tokens: 0,
    cache_creation: { ephemeral_5m_input_tokens: 0, ephemeral_1h_input_tokens: 0 },
    output_tokens: 59,
    output_tokens_details: { thinking_tokens: 18 },
    service_tier: 'standard',
    inference_geo: 'global',
  },
  diagnostics: null,
};

/** Built by hand: prompt caching with reads, 5-minute and 1-hour writes, all disjoint from input_tokens. */
export const ANTHROPIC_CACHE_USAGE = {
  input_tokens: 21,
  cache_creation_input_tokens: 1800,
  cache_read_input_tokens: 5000,
  cache_creation: { ephemeral_5m_input_tokens: 300, ephemeral_1h_input_tokens: 1500 },
  output_tokens: 393,
  service_tier: 'standard',
};

export const ANTHROPIC_THINKING_EVENTS = [
  '{"type":"message_start","message":{"model":"claude-sonnet-4-5-20250929","id":"msg_01Y6V41gqPaKWEw7iPouH7iW","type":"message","role":"assistant","content":[],"stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":69,"cache_creation_input_tokens":0,"cache_read_input_tokens":0,"cache_creation":{"ephemeral_5m_input_tokens":0,"ephemeral_1h_input_tokens":0},"output_tokens":2,"service_tier":"standard","inference_geo":"not_available"}}}',
  '{"type":"content_block_start","index":0,"content_block":{"type":"thinking","thinking":"","signature":""}}',
  '{"type":"ping"}',
  '{"type":"content_block_delta","index":0,"delta":{"type":"thinking_delta","thinking":"The previous"}}',
  '{"type":"content_block_delta","index":0,"delta":{"type":"thinking_delta","thinking":" result was 925."}}',
  '{"type":"content_block_delta","index":0,"delta":{"type":"thinking_delta","thinking":""}}',
  '{"type":"content_block_delta","index":0,"delta":{"type":"signature_delta","signature":"EvQBCkYICxgCKkAxhD4NUKFzudtZ6NzbZdEiBACIScTzqjPViM596iWLZIk4EFKYYBj3B6Ptl3b0dcQv"}}',
  '{"type":"content_block_stop","index":0}',
  '{"type":"content_block_start","index":1,"content_block":{"type":"text","text":""}}',
  '{"type":"content_block_delta","index":1,"delta":{"type":"text_delta","text":"925"}}',
  '{"type":"content_block_delta","index":1,"delta":{"type":"text_delta","text":" ÷ 5 "}}',
  '{"type":"content_block_delta","index":1,"delta":{"type":"text_delta","text":"= 185"}}',
  '{"type":"content_block_stop","index":1}',
  '{"type":"message_delta","delta":{"stop_reason":"end_turn","stop_sequence":null},"usage":{"input_tokens":69,"cache_creation_input_tokens":0,"cache_read_input_tokens":0,"output_tokens":53},"context_management":{"applied_edits":[]}}',
  '{"type":"message_stop"}',
];

export const ANTHROPIC_TOOL_EVENTS = [
  '{"type":"message_start","message":{"model":"claude-haiku-4-5-20251001","id":"msg_01K2JbSUMYhez5RHoK9ZCj9U","type":"message","role":"assistant","content":[],"stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":849,"cache_creation_input_tokens":0,"cache_read_input_tokens":0,"cache_creation":{"ephemeral_5m_input_tokens":0,"ephemeral_1h_input_tokens":0},"output_tokens":10,"service_tier":"standard"}}}',
  '{"type":"content_block_start","index":0,"content_block":{"type":"tool_use","id":"toolu_01KFbKqPYSuAKujiL6mTfzYA","name":"json","input":{}}}',
  '{"type":"content_block_delta","index":0,"delta":{"type":"input_json_delta","partial_json":""}}',
  '{"type":"ping"}',
  '{"type":"content_block_delta","index":0,"delta":{"type":"input_json_delta","partial_json":"{\\"elements\\": [{\\"location\\": \\"San Francisco\\", \\"temperature\\": 58, \\"condition\\": \\"sunny\\"}]"}}',
  '{"type":"content_block_delta","index":0,"delta":{"type":"input_json_delta","partial_json":"}"}}',
  '{"type":"content_block_stop","index":0}',
  '{"type":"message_delta","delta":{"stop_reason":"tool_use","stop_sequence":null},"usage":{"input_tokens":849,"cache_creation_input_tokens":0,"cache_read_input_tokens":0,"output_tokens":47}}',
  '{"type":"message_stop"}',
];

/** message_delta reports cumulative input_tokens that differ from message_start's: the last value wins. */
export const ANTHROPIC_DELTA_INPUT_EVENTS = [
  '{"type":"message_start","message":{"content":[],"id":"msg_3196a1cc08de4d76b85b8f5777c0d42b","model":"claude-opus-4-5-20251101","role":"assistant","stop_reason":null,"stop_sequence":null,"type":"message","usage":{"input_tokens":43,"output_tokens":1}}}',
  '{"type":"content_block_start","index":0,"content_block":{"text":"","type":"text"}}',
  '{"type":"content_block_delta","index":0,"delta":{"text":"p","type":"text_delta"}}',
  '{"type":"ping"}',
  '{"type":"content_block_delta","index":0,"delta":{"text":"ong","type":"text_delta"}}',
  '{"type":"content_block_stop","index":0}',
  '{"type":"message_delta","delta":{"stop_reason":"end_turn","stop_sequence":null},"usage":{"input_tokens":61,"output_tokens":2}}',
  '{"type":"message_stop"}',
];

export const GEMINI_TOOL_CALL_RESPONSE = {
  candidates: [
    {
      content: {
        parts: [
          {
            functionCall: { name: 'weather', args: { location: 'San Francisco' } },
            thoughtSignature:
              'EskgCsYgAb4+9vtF7/499YQS2bjZs3xcQI+iAl+ILn29nK1j0Kg6su7QsUUUk3nrAAfnS2w5WiVvlcCqu9fAebJ2cvfaEyBahEt5',
          },
        ],
        role: 'model',
      },
      finishReason: 'STOP',
      index: 0,
      finishMessage: 'Model generated function call(s).',
    },
  ],
  usageMetadata: {
    promptTokenCount: 29,
    candidatesTokenCount: 15,
    totalTokenCount: 937,
    promptTokensDetails: [{ modality: 'TEXT', tokenCount: 29 }],
    thoughtsTokenCount: 893,
  },
  modelVersion: 'gemini-3-pro-preview',
  responseId: 'm36LaZGyCLz1xs0PtNSB-QU',
};

/** Cached content, built-in tool prompts and thoughts at once; totalTokenCount is the sum of all four. */
export const GEMINI_COMPLETE_USAGE = {
  promptTokenCount: 19,
  cachedContentTokenCount: 3,
  candidatesTokenCount: 4,
  toolUsePromptTokenCount: 63,
  thoughtsTokenCount: 56,
  totalTokenCount: 142,
  promptTokensDetails: [{ modality: 'TEXT', tokenCount: 19 }],
  cacheTokensDetails: [{ modality: 'TEXT', tokenCount: 3 }],
  candidatesTokensDetails: [{ modality: 'TEXT', tokenCount: 4 }],
  toolUsePromptTokensDetails: [{ modality: 'TEXT', tokenCount: 63 }],
  serviceTier: 'standard',
};

export const GEMINI_TOOL_USE_USAGE = {
  promptTokenCount: 55,
  candidatesTokenCount: 51,
  totalTokenCount: 251,
  promptTokensDetails: [{ modality: 'TEXT', tokenCount: 55 }],
  toolUsePromptTokenCount: 89,
  toolUsePromptTokensDetails: [{ modality: 'TEXT', tokenCount: 89 }],
  thoughtsTokenCount: 56,
  serviceTier: 'standard',
};

export const GEMINI_REASONING_CHUNKS = [
  '{"candidates":[{"content":{"parts":[{"text":"There are **3** \\"r\\"s in"}],"role":"model"},"index":0}],"usageMetadata":{"promptTokenCount":9,"candidatesTokenCount":10,"totalTokenCount":275,"promptTokensDetails":[{"modality":"TEXT","tokenCount":9}],"thoughtsTokenCount":256},"modelVersion":"gemini-3-pro-preview","responseId":"dX6LadKVC7SZ28oPr9yJoQs"}',
  '{"candidates":[{"content":{"parts":[{"text":" strawberry.\\n\\nHere is the breakdown: st**r**awbe**rr**y."}],"role":"model"},"index":0}],"usageMetadata":{"promptTokenCount":9,"candidatesTokenCount":29,"totalTokenCount":294,"promptTokensDetails":[{"modality":"TEXT","tokenCount":9}],"thoughtsTokenCount":256},"modelVersion":"gemini-3-pro-preview","responseId":"dX6LadKVC7SZ28oPr9yJoQs"}',
  '{"candidates":[{"content":{"parts":[{"text":"","thoughtSignature":"Eo0HCooHAb4+9vutXdtKMt+r7Z3gLh52ZQ3RKYDzp4A6PHh0dLuvI1KwnLxDS"}],"role":"model"},"finishReason":"STOP","index":0}],"usageMetadata":{"promptTokenCount":9,"candidatesTokenCount":29,"totalTokenCount":294,"promptTokensDetails":[{"modality":"TEXT","tokenCount":9}],"thoughtsTokenCount":256},"modelVersion":"gemini-3-pro-preview","responseId":"dX6LadKVC7SZ28oPr9yJoQs"}',
];

export const GEMINI_TOOL_CALL_CHUNKS = [
  '{"candidates":[{"content":{"parts":[{"functionCall":{"name":"weather","args":{"location":"San Francisco"}},"thoughtSignature":"EqUCCqICAb4+9vsh8Pd5taZVoPzSvjWWwzBrvhEQ"}],"role":"model"},"index":0}],"usageMetadata":{"promptTokenCount":29,"candidatesTokenCount":15,"totalTokenCount":89,"promptTokensDetails":[{"modality":"TEXT","tokenCount":29}],"thoughtsTokenCount":45},"modelVersion":"gemini-3-pro-preview","responseId":"b36LacjwM668nsEP2tbsgQQ"}',
  '{"candidates":[{"content":{"parts":[{"text":""}],"role":"model"},"finishReason":"STOP","index":0}],"usageMetadata":{"promptTokenCount":29,"candidatesTokenCount":15,"totalTokenCount":89,"promptTokensDetails":[{"modality":"TEXT","tokenCount":29}],"thoughtsTokenCount":45},"modelVersion":"gemini-3-pro-preview","responseId":"b36LacjwM668nsEP2tbsgQQ"}',
];

export const GEMINI_429_BODY = JSON.stringify({
  error: {
    code: 429,
    message: 'You exceeded your current quota, please check your plan.',
    status: 'RESOURCE_EXHAUSTED',
    details: [
      {
        '@type': 'type.googleapis.com/google.rpc.QuotaFailure',
        violations: [{ quotaId: 'GenerateRequestsPerMinutePerProjectPerModel-FreeTier' }],
      },
      { '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay: '34.4s' },
    ],
  },
});

/** SSE text as each provider writes it: OpenAI `data:` + [DONE], Anthropic `event:` + `data:`, Gemini CRLF. */
export function openAiSse(chunks: string[]): string {
  return chunks.map((c) => `data: ${c}\n\n`).join('') + 'data: [DONE]\n\n';
}

export function anthropicSse(events: string[]): string {
  return events.map((e) => `event: ${(JSON.parse(e) as { type: string }).type}\ndata: ${e}\n\n`).join('');
}

export function geminiSse(chunks: string[]): string {
  return chunks.map((c) => `data: ${c}\r\n\r\n`).join('');
}

/** Feeds `text` to a push/end decoder in pieces of `size` characters and collects every output. */
export function feed<T>(
  decoder: { push(chunk: string): T[]; end(): T[] },
  text: string,
  size = text.length,
): T[] {
  const out: T[] = [];
  for (let i = 0; i < text.length; i += size) out.push(...decoder.push(text.slice(i, i + size)));
  out.push(...decoder.end());
  return out;
}
