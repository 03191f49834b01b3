// Translations between formats, end to end through the canonical model: what a client sends in one format
// becomes the right upstream body in another, and what that upstream streams back reaches the client as
// its own format, with tools, images and usage intact.

import {
  ANTHROPIC_THINKING_EVENTS,
  ANTHROPIC_TOOL_EVENTS,
  anthropicSse,
  feed,
  GEMINI_TOOL_CALL_CHUNKS,
  geminiSse,
  OPENAI_TOOL_CHUNKS,
  openAiSse,
} from './__fixtures__/provider-payloads';
import { type CanonicalUsage, type CanonicalStreamEvent, wireAdapters } from './index';
import { SseParser } from './sse';

const { openai, anthropic, gemini } = wireAdapters;

function sseData(text: string): Array<{ event: string; data: unknown }> {
  const parser = new SseParser();
  return [...parser.push(text), ...parser.end()].map((e) => ({
    event: e.event,
    data: e.data === '[DONE]' ? '[DONE]' : JSON.parse(e.data),
  }));
}

/** Pipes an upstream stream through a client encoder, as the relay does. */
function relay(
  events: CanonicalStreamEvent[],
  encode: (e: CanonicalStreamEvent) => string,
  end: () => string,
): string {
  return events.map(encode).join('') + end();
}

describe('OpenAI client → Anthropic channel', () => {
  const body = {
    model: 'claude-sonnet-4-5',
    messages: [
      { role: 'system', content: 'You see images.' },
      {
        role: 'user',
        content: [
          { type: 'text', text: 'What is this?' },
          { type: 'image_url', image_url: { url: 'data:image/webp;base64,UklGRg==' } },
          { type: 'image_url', image_url: { url: 'https://example.com/a.png' } },
        ],
      },
      {
        role: 'assistant',
        content: 'Let me look closer.',
        tool_calls: [
          { id: 'call_1', type: 'function', function: { name: 'zoom', arguments: '{"x":1}' } },
          { id: 'call_2', type: 'function', function: { name: 'zoom', arguments: '{"x":2}' } },
        ],
      },
      { role: 'tool', tool_call_id: 'call_1', content: 'a cat' },
      { role: 'tool', tool_call_id: 'call_2', content: 'a hat' },
      { role: 'user', content: 'So?' },
    ],
    tools: [
      {
        type: 'function',
        function: { name: 'zoom', parameters: { type: 'object', properties: { x: { type: 'number' } } } },
      },
    ],
    tool_choice: 'auto',
    max_tokens: 1000,
    temperature: 0.7,
    stop: ['###'],
    stream: true,
    stream_options: { include_usage: true },
    logprobs: true,
  };

  it('builds the Anthropic body: system hoisted, images as sources, parallel tool results in one user turn', () => {
    const upstream = anthropic.encodeUpstreamRequest(
      openai.decodeRequest(body),
      'claude-sonnet-4-5-20250929',
    );
    expect(upstream).toEqual({
      path: '/v1/messages',
      headers: { 'anthropic-version': '2023-06-01' },
      body: {
        model: 'claude-sonnet-4-5-20250929',
        max_tokens: 1000,
        system: 'You see images.',
        messages: [
          {
            role: 'user',
            content: [
              { type: 'text', text: 'What is this?' },
              { type: 'image', source: { type: 'base64', media_type: 'image/webp', data: 'UklGRg==' } },
              { type: 'image', source: { type: 'url', url: 'https://example.com/a.png' } },
            ],
          },
          {
            role: 'assistant',
            content: [
              { type: 'text', text: 'Let me look closer.' },
              { type: 'tool_use', id: 'call_1', name: 'zoom', input: { x: 1 } },
              { type: 'tool_use', id: 'call_2', name: 'zoom', input: { x: 2 } },
            ],
          },
          {
            role: 'user',
            content: [
              { type: 'tool_result', tool_use_id: 'call_1', content: 'a cat' },
              { type: 'tool_result', tool_use_id: 'call_2', content: 'a hat' },
              { type: 'text', text: 'So?' },
            ],
          },
        ],
        stream: true,
        temperature: 0.7,
        stop_sequences: ['###'],
        tools: [{ name: 'zoom', input_schema: { type: 'object', properties: { x: { type: 'number' } } } }],
        tool_choice: { type: 'auto' },
        // `logprobs` is an OpenAI parameter: it is not sent to Anthropic.
      },
    });
  });

  it('streams Anthropic tool use back as OpenAI chunks with the whole arguments, finish and usage', () => {
    const req = openai.decodeRequest(body);
    const events = feed(anthropic.createUpstreamStreamDecoder(), anthropicSse(ANTHROPIC_TOOL_EVENTS), 11);
    const enc = openai.createStreamEncoder(req, {
      id: 'chatcmpl-gw',
      model: 'claude-sonnet-4-5',
      created: 5,
    });
    const chunks = sseData(
      relay(
        events,
        (e) => enc.encode(e),
        () => enc.end(),
      ),
    ).map((e) => e.data);

    expect(chunks.at(-1)).toBe('[DONE]');
    type Chunk = {
      choices: Array<{ delta: Record<string, unknown>; finish_reason: string | null }>;
      usage?: unknown;
    };
    const sent = chunks.slice(0, -1) as Chunk[];
    const calls = sent.flatMap(
      (c) =>
        (c.choices[0]?.delta.tool_calls as Array<{
          id?: string;
          function: { name?: string; arguments: string };
        }>) ?? [],
    );
    expect(calls[0]).toMatchObject({ id: 'toolu_01KFbKqPYSuAKujiL6mTfzYA', function: { name: 'json' } });
    expect(JSON.parse(calls.map((c) => c.function.arguments).join(''))).toEqual({
      elements: [{ location: 'San Francisco', temperature: 58, condition: 'sunny' }],
    });
    expect(sent.find((c) => c.choices[0]?.finish_reason)?.choices[0].finish_reason).toBe('tool_calls');
    expect(sent.at(-1)).toMatchObject({
      choices: [],
      usage: {
        prompt_tokens: 849,
        completion_tokens: 47,
        total_tokens: 896,
        prompt_tokens_details: { cached_tokens: 0 },
      },
    });
  });

  it('streams Anthropic thinking back as reasoning_content then content', () => {
    const req = openai.decodeRequest(body);
    const events = feed(anthropic.createUpstreamStreamDecoder(), anthropicSse(ANTHROPIC_THINKING_EVENTS));
    const enc = openai.createStreamEncoder(req, { created: 5 });
    const deltas = sseData(
      relay(
        events,
        (e) => enc.encode(e),
        () => enc.end(),
      ),
    )
      .map((e) => e.data as { choices?: Array<{ delta: Record<string, string> }> })
      .flatMap((c) => c.choices ?? [])
      .map((c) => c.delta);
    expect(deltas.map((d) => d.reasoning_content ?? '').join('')).toBe('The previous result was 925.');
    expect(deltas.map((d) => d.content ?? '').join('')).toBe('925 ÷ 5 = 185');
  });
});

describe('Anthropic client → OpenAI channel', () => {
  it('sends tool results as tool messages and streams tool calls back as tool_use blocks', () => {
    const req = anthropic.decodeRequest({
      model: 'gpt-4o',
      max_tokens: 300,
      system: 'Be exact.',
      messages: [
        { role: 'user', content: 'Weather and time in Paris?' },
        {
          role: 'assistant',
          content: [{ type: 'tool_use', id: 'toolu_1', name: 'get_weather', input: { location: 'Paris' } }],
        },
        { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_1', content: '18°C' }] },
      ],
      tools: [{ name: 'get_weather', input_schema: { type: 'object' } }],
      stream: true,
    });
    expect(openai.encodeUpstreamRequest(req, 'gpt-4o').body).toEqual({
      model: 'gpt-4o',
      messages: [
        { role: 'system', content: 'Be exact.' },
        { role: 'user', content: 'Weather and time in Paris?' },
        {
          role: 'assistant',
          content: null,
          tool_calls: [
            {
              id: 'toolu_1',
              type: 'function',
              function: { name: 'get_weather', arguments: '{"location":"Paris"}' },
            },
          ],
        },
        { role: 'tool', tool_call_id: 'toolu_1', content: '18°C' },
      ],
      stream: true,
      stream_options: { include_usage: true },
      max_completion_tokens: 300,
      tools: [{ type: 'function', function: { name: 'get_weather', parameters: { type: 'object' } } }],
    });

    const events = feed(openai.createUpstreamStreamDecoder(), openAiSse(OPENAI_TOOL_CHUNKS), 9);
    const enc = anthropic.createStreamEncoder(req, { id: 'msg_gw' });
    const out = sseData(
      relay(
        events,
        (e) => enc.encode(e),
        () => enc.end(),
      ),
    );
    const starts = out
      .filter((e) => e.event === 'content_block_start')
      .map((e) => (e.data as { content_block: unknown }).content_block);
    expect(starts).toEqual([
      { type: 'tool_use', id: 'call_n64EzCBu9K9VmDVOpVCOz92n', name: 'get_weather', input: {} },
      { type: 'tool_use', id: 'call_2', name: 'get_time', input: {} },
    ]);
    const json = out
      .filter((e) => e.event === 'content_block_delta')
      .map((e) => e.data as { index: number; delta: { partial_json: string } });
    expect(
      json
        .filter((d) => d.index === 0)
        .map((d) => d.delta.partial_json)
        .join(''),
    ).toBe('{"location":"Paris"}');
    expect(out.at(-2)).toMatchObject({
      event: 'message_delta',
      data: { delta: { stop_reason: 'tool_use' } },
    });
    expect(out.at(-1)).toEqual({ event: 'message_stop', data: { type: 'message_stop' } });
  });
});

describe('Gemini client ↔ other channels', () => {
  const geminiBody = {
    contents: [
      {
        role: 'user',
        parts: [{ text: 'Weather?' }, { inlineData: { mimeType: 'image/jpeg', data: '/9j/' } }],
      },
      {
        role: 'model',
        parts: [{ functionCall: { name: 'weather', args: { city: 'Paris' } }, thoughtSignature: 'g-sig' }],
      },
      { role: 'user', parts: [{ functionResponse: { name: 'weather', response: { output: 'sunny' } } }] },
    ],
    tools: [{ functionDeclarations: [{ name: 'weather', parametersJsonSchema: { type: 'object' } }] }],
  };

  it('becomes an Anthropic body whose tool_result points at the generated tool_use id', () => {
    const req = gemini.decodeRequest(geminiBody, { modelFromPath: 'claude-haiku-4-5' });
    const { body } = anthropic.encodeUpstreamRequest(req, 'claude-haiku-4-5');
    expect(body.messages).toEqual([
      {
        role: 'user',
        content: [
          { type: 'text', text: 'Weather?' },
          { type: 'image', source: { type: 'base64', media_type: 'image/jpeg', data: '/9j/' } },
        ],
      },
      // The Gemini signature means nothing to Anthropic and is not sent.
      {
        role: 'assistant',
        content: [{ type: 'tool_use', id: 'call_1_0', name: 'weather', input: { city: 'Paris' } }],
      },
      { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'call_1_0', content: 'sunny' }] },
    ]);
  });

  it('round-trips to a Gemini channel with the signature replayed', () => {
    const req = gemini.decodeRequest(geminiBody, { modelFromPath: 'gemini-3-pro-preview' });
    const contents = gemini.encodeUpstreamRequest(req, 'gemini-3-pro-preview').body.contents;
    expect(contents).toEqual([
      {
        role: 'user',
        parts: [{ text: 'Weather?' }, { inlineData: { mimeType: 'image/jpeg', data: '/9j/' } }],
      },
      {
        role: 'model',
        parts: [
          {
            functionCall: { id: 'call_1_0', name: 'weather', args: { city: 'Paris' } },
            thoughtSignature: 'g-sig',
          },
        ],
      },
      {
        role: 'user',
        parts: [{ functionResponse: { id: 'call_1_0', name: 'weather', response: { output: 'sunny' } } }],
      },
    ]);
  });

  it('streams a Gemini function call to an OpenAI client', () => {
    const req = openai.decodeRequest({
      model: 'gemini-3-pro',
      messages: [{ role: 'user', content: 'x' }],
      stream: true,
    });
    const events = feed(gemini.createUpstreamStreamDecoder(), geminiSse(GEMINI_TOOL_CALL_CHUNKS), 25);
    const enc = openai.createStreamEncoder(req, { created: 1 });
    const chunks = sseData(
      relay(
        events,
        (e) => enc.encode(e),
        () => enc.end(),
      ),
    ).map((e) => e.data) as Array<{
      choices?: Array<{
        delta: { tool_calls?: Array<{ function: { arguments: string } }> };
        finish_reason: string | null;
      }>;
    }>;
    const args = chunks
      .flatMap((c) => c.choices?.[0]?.delta.tool_calls ?? [])
      .map((t) => t.function.arguments);
    expect(JSON.parse(args.join(''))).toEqual({ location: 'San Francisco' });
    expect(chunks.some((c) => c.choices?.[0]?.finish_reason === 'tool_calls')).toBe(true);
  });
});

describe('usage across formats', () => {
  const usage: CanonicalUsage = {
    inputTokens: 1000,
    outputTokens: 500,
    cacheReadTokens: 4000,
    cacheWrite5mTokens: 200,
    cacheWrite1hTokens: 100,
    reasoningTokens: 120,
  };
  const response = { id: 'r', model: 'm', content: [], stopReason: 'end_turn' as const, usage };

  it('keeps the total input and output the same in every client format', () => {
    for (const adapter of [openai, anthropic, gemini]) {
      const back = adapter.extractUsageFromResponse(adapter.encodeResponse(response))!;
      const inputOf = (u: CanonicalUsage) =>
        u.inputTokens + u.cacheReadTokens + u.cacheWrite5mTokens + u.cacheWrite1hTokens;
      expect(inputOf(back)).toBe(5300);
      expect(back.outputTokens).toBe(500);
      expect(back.cacheReadTokens).toBe(4000);
      expect(back.reasoningTokens).toBe(120);
    }
    // Only Anthropic can express cache writes; it round-trips them exactly.
    expect(anthropic.extractUsageFromResponse(anthropic.encodeResponse(response))).toEqual(usage);
  });
});

describe('errors across formats', () => {
  it('relays an Anthropic overload to an OpenAI client with the provider type', () => {
    const upstream = anthropic.decodeUpstreamError(
      529,
      '{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}',
    );
    expect(
      openai.encodeError({
        status: 503,
        code: 'upstream_unavailable',
        message: upstream.message,
        upstreamType: upstream.type,
      }),
    ).toEqual({
      error: { type: 'overloaded_error', code: 'upstream_unavailable', message: 'Overloaded', param: null },
    });
    expect(
      gemini.encodeError({ status: 503, code: 'upstream_unavailable', message: upstream.message }),
    ).toEqual({
      error: { code: 503, message: '[upstream_unavailable] Overloaded', status: 'UNAVAILABLE' },
    });
  });
});
