import {
  feed,
  OPENAI_CACHED_REASONING_USAGE,
  OPENAI_TEXT_CHUNKS,
  OPENAI_TEXT_RESPONSE,
  OPENAI_TOOL_CHUNKS,
  openAiSse,
} from '../__fixtures__/provider-payloads';
import { type CanonicalRequest, type CanonicalStreamEvent, totalInputTokens } from '../canonical';
import { InvalidRequestError, UnsupportedFeatureError, UpstreamProtocolError } from '../relay.errors';
import { SseParser } from '../sse';
import { openAiChatAdapter as openai } from './openai-chat.adapter';

const usage = {
  inputTokens: 86,
  outputTokens: 300,
  cacheReadTokens: 1920,
  cacheWrite5mTokens: 0,
  cacheWrite1hTokens: 0,
  reasoningTokens: 192,
};

function caught(fn: () => unknown): unknown {
  try {
    fn();
  } catch (e) {
    return e;
  }
  throw new Error('expected an error');
}

function dataEvents(sse: string): unknown[] {
  const parser = new SseParser();
  return [...parser.push(sse), ...parser.end()].map((e) =>
    e.data === '[DONE]' ? '[DONE]' : JSON.parse(e.data),
  );
}

describe('OpenAI Chat Completions adapter', () => {
  describe('decodeRequest', () => {
    const body = {
      model: 'gpt-4o',
      messages: [
        { role: 'system', content: 'Be brief.' },
        { role: 'developer', content: [{ type: 'text', text: 'Answer in English.' }] },
        {
          role: 'user',
          content: [
            { type: 'text', text: 'What is in these images?' },
            { type: 'image_url', image_url: { url: 'data:image/png;base64,iVBORw0KGgo=', detail: 'low' } },
            { type: 'image_url', image_url: { url: 'https://example.com/cat.jpg' } },
            { type: 'input_audio', input_audio: { data: 'UklGR', format: 'wav' } },
          ],
        },
        {
          role: 'assistant',
          content: null,
          tool_calls: [
            { id: 'call_1', type: 'function', function: { name: 'lookup', arguments: '{"q":"cat"}' } },
          ],
        },
        { role: 'tool', tool_call_id: 'call_1', content: 'a cat' },
        { role: 'system', content: 'Now be funny.' },
      ],
      max_completion_tokens: 500,
      temperature: 0.2,
      stop: 'END',
      stream: true,
      stream_options: { include_usage: true },
      tools: [
        {
          type: 'function',
          function: {
            name: 'lookup',
            description: 'Search',
            parameters: { type: 'object', properties: {} },
            strict: true,
          },
        },
      ],
      tool_choice: { type: 'function', function: { name: 'lookup' } },
      parallel_tool_calls: false,
      response_format: {
        type: 'json_schema',
        json_schema: { name: 'answer', schema: { type: 'object' }, strict: true },
      },
      reasoning_effort: 'minimal',
      user: 'user-42',
      logprobs: true,
      service_tier: 'flex',
    };

    it('maps every field it routes or translates on, and keeps the unknown ones for OpenAI', () => {
      const req = openai.decodeRequest(body);
      expect(req).toEqual<CanonicalRequest>({
        model: 'gpt-4o',
        system: 'Be brief.\n\nAnswer in English.',
        messages: [
          {
            role: 'user',
            content: [
              { type: 'text', text: 'What is in these images?' },
              {
                type: 'image',
                source: { kind: 'base64', mediaType: 'image/png', data: 'iVBORw0KGgo=' },
                detail: 'low',
              },
              { type: 'image', source: { kind: 'url', url: 'https://example.com/cat.jpg' } },
              {
                type: 'opaque',
                format: 'openai',
                kind: 'input_audio',
                value: { type: 'input_audio', input_audio: { data: 'UklGR', format: 'wav' } },
              },
            ],
          },
          {
            role: 'assistant',
            content: [{ type: 'tool_call', id: 'call_1', name: 'lookup', arguments: '{"q":"cat"}' }],
          },
          { role: 'tool', content: [{ type: 'tool_result', toolCallId: 'call_1', content: 'a cat' }] },
          { role: 'system', content: [{ type: 'text', text: 'Now be funny.' }] },
        ],
        stream: true,
        streamUsage: true,
        maxTokens: 500,
        temperature: 0.2,
        stop: ['END'],
        user: 'user-42',
        parallelToolCalls: false,
        tools: [
          {
            name: 'lookup',
            description: 'Search',
            parameters: { type: 'object', properties: {} },
            strict: true,
          },
        ],
        toolChoice: { name: 'lookup' },
        responseFormat: { type: 'json_schema', name: 'answer', schema: { type: 'object' }, strict: true },
        reasoning: { enabled: true, effort: 'low' },
        extra: { format: 'openai', params: { logprobs: true, service_tier: 'flex' } },
      });
    });

    it('rejects what it cannot route, naming the field', () => {
      const bad = (b: unknown) => () => openai.decodeRequest(b);
      expect(bad({ messages: [] })).toThrow(new InvalidRequestError('`model` is required', 'model'));
      expect(bad({ model: 'm', messages: [] })).toThrow('`messages` must not be empty');
      expect(bad({ model: 'm', messages: [{ role: 'bot', content: 'x' }] })).toThrow(
        /`messages\[0\]\.role` must be one of/,
      );
      expect(bad({ model: 'm', messages: [{ role: 'tool', content: 'x' }] })).toThrow(
        '`messages[0].tool_call_id` must be a string',
      );
      expect(bad({ model: 'm', messages: [{ role: 'user', content: 'x' }], temperature: 'hot' })).toThrow(
        '`temperature` must be a number',
      );
      const error = caught(() =>
        openai.decodeRequest({ model: 'm', messages: [{ role: 'user', content: 'x' }], max_tokens: -1 }),
      );
      expect(error).toBeInstanceOf(InvalidRequestError);
      expect(error).toMatchObject({
        status: 400,
        param: 'max_tokens',
        message: '`max_tokens` must be a non-negative integer',
      });
    });

    it('treats reasoning_effort "none" as reasoning off and unknown words as on', () => {
      const msg = [{ role: 'user', content: 'hi' }];
      expect(
        openai.decodeRequest({ model: 'o3', messages: msg, reasoning_effort: 'none' }).reasoning,
      ).toEqual({ enabled: false });
      expect(
        openai.decodeRequest({ model: 'o3', messages: msg, reasoning_effort: 'ultra' }).reasoning,
      ).toEqual({ enabled: true });
    });
  });

  describe('usage mapping', () => {
    it('splits cached tokens out of prompt_tokens and keeps reasoning inside completion_tokens', () => {
      const u = openai.extractUsageFromResponse({ usage: OPENAI_CACHED_REASONING_USAGE })!;
      expect(u).toEqual(usage);
      // No token counted twice or lost: the buckets add up to OpenAI's own total.
      expect(totalInputTokens(u) + u.outputTokens).toBe(OPENAI_CACHED_REASONING_USAGE.total_tokens);
    });

    it('handles servers that leave reasoning out of completion_tokens, detected by total_tokens', () => {
      const u = openai.extractUsageFromResponse({
        usage: {
          prompt_tokens: 10,
          completion_tokens: 5,
          total_tokens: 35,
          completion_tokens_details: { reasoning_tokens: 20 },
        },
      });
      expect(u).toMatchObject({ inputTokens: 10, outputTokens: 25, reasoningTokens: 20 });
    });

    it('reads DeepSeek cache hits and reports unknown usage as undefined, never 0', () => {
      expect(
        openai.extractUsageFromResponse({
          usage: { prompt_tokens: 100, completion_tokens: 1, total_tokens: 101, prompt_cache_hit_tokens: 64 },
        }),
      ).toMatchObject({ inputTokens: 36, cacheReadTokens: 64 });
      expect(openai.extractUsageFromResponse({ choices: [] })).toBeUndefined();
    });
  });

  describe('responses', () => {
    it('decodes a recorded response', () => {
      expect(openai.decodeUpstreamResponse(OPENAI_TEXT_RESPONSE)).toEqual({
        id: 'chatcmpl-D8Z5f52zQqikDBEKQMQoYcWMcWPeU',
        model: 'gpt-4.1-nano-2025-04-14',
        created: 1770933883,
        content: [{ type: 'text', text: '**Holiday Name:** Galaxy Day' }],
        stopReason: 'end_turn',
        usage: {
          inputTokens: 16,
          outputTokens: 363,
          cacheReadTokens: 0,
          cacheWrite5mTokens: 0,
          cacheWrite1hTokens: 0,
          reasoningTokens: 0,
        },
      });
      expect(() => openai.decodeUpstreamResponse({ choices: [] })).toThrow(UpstreamProtocolError);
    });

    it('encodes text, reasoning, tool calls, usage and the cost', () => {
      const body = openai.encodeResponse(
        {
          id: 'chatcmpl-1',
          model: 'gpt-4o',
          created: 1700000000,
          content: [
            { type: 'reasoning', text: 'Think.' },
            { type: 'text', text: 'Calling.' },
            { type: 'tool_call', id: 'call_9', name: 'lookup', arguments: '{"q":1}' },
          ],
          stopReason: 'tool_use',
          usage: { ...usage, cacheWrite5mTokens: 14 },
        },
        { costUsd: 0.0123 },
      );
      expect(body).toEqual({
        id: 'chatcmpl-1',
        object: 'chat.completion',
        created: 1700000000,
        model: 'gpt-4o',
        choices: [
          {
            index: 0,
            message: {
              role: 'assistant',
              content: 'Calling.',
              reasoning_content: 'Think.',
              tool_calls: [
                { id: 'call_9', type: 'function', function: { name: 'lookup', arguments: '{"q":1}' } },
              ],
            },
            logprobs: null,
            finish_reason: 'tool_calls',
          },
        ],
        usage: {
          // Cache writes have no OpenAI bucket: they are prompt tokens, and still not cached reads.
          prompt_tokens: 2020,
          completion_tokens: 300,
          total_tokens: 2320,
          prompt_tokens_details: { cached_tokens: 1920 },
          completion_tokens_details: { reasoning_tokens: 192 },
          cost: 0.0123,
        },
      });
    });
  });

  describe('streams', () => {
    it('decodes a recorded stream in any chunking, usage last', () => {
      const sse = openAiSse(OPENAI_TEXT_CHUNKS);
      const whole = feed(openai.createUpstreamStreamDecoder(), sse);
      expect(whole).toEqual<CanonicalStreamEvent[]>([
        { type: 'start', id: 'chatcmpl-D8Z5oo6uDh67AD85p73ksdT1KxhE0', model: 'gpt-4.1-nano-2025-04-14' },
        { type: 'text-delta', text: '**' },
        { type: 'text-delta', text: 'Holiday' },
        { type: 'text-delta', text: ' Name' },
        { type: 'finish', stopReason: 'end_turn' },
        {
          type: 'usage',
          usage: {
            inputTokens: 16,
            outputTokens: 300,
            cacheReadTokens: 0,
            cacheWrite5mTokens: 0,
            cacheWrite1hTokens: 0,
            reasoningTokens: 0,
          },
        },
      ]);
      for (const size of [1, 7, 64])
        expect(feed(openai.createUpstreamStreamDecoder(), sse, size)).toEqual(whole);
    });

    it('decodes parallel tool calls', () => {
      const events = feed(openai.createUpstreamStreamDecoder(), openAiSse(OPENAI_TOOL_CHUNKS), 13);
      expect(events.slice(1)).toEqual<CanonicalStreamEvent[]>([
        { type: 'tool-call-start', index: 0, id: 'call_n64EzCBu9K9VmDVOpVCOz92n', name: 'get_weather' },
        { type: 'tool-call-delta', index: 0, argumentsDelta: '{"loc' },
        { type: 'tool-call-delta', index: 0, argumentsDelta: 'ation":"Paris"}' },
        { type: 'tool-call-start', index: 1, id: 'call_2', name: 'get_time' },
        { type: 'tool-call-delta', index: 1, argumentsDelta: '{}' },
        { type: 'finish', stopReason: 'tool_use' },
      ]);
    });

    it('reports a stream cut before its end, and an in-stream error, as errors', () => {
      const cut = feed(openai.createUpstreamStreamDecoder(), `data: ${OPENAI_TEXT_CHUNKS[1]}\n\n`);
      expect(cut.at(-1)).toMatchObject({ type: 'error', errorType: 'upstream_stream_incomplete' });
      const failed = feed(
        openai.createUpstreamStreamDecoder(),
        `data: ${OPENAI_TEXT_CHUNKS[1]}\n\ndata: {"error":{"message":"The server had an error","type":"server_error"}}\n\n`,
      );
      expect(failed.at(-1)).toEqual({
        type: 'error',
        errorType: 'server_error',
        message: 'The server had an error',
      });
      expect(failed.filter((e) => e.type === 'error')).toHaveLength(1);
    });

    it('encodes chunks, the finish, the usage chunk (with cost) and [DONE]', () => {
      const req = openai.decodeRequest({
        model: 'gpt-4o',
        messages: [{ role: 'user', content: 'hi' }],
        stream: true,
        stream_options: { include_usage: true },
      });
      const enc = openai.createStreamEncoder(req, { id: 'chatcmpl-x', created: 1 });
      expect(enc.contentType).toBe('text/event-stream; charset=utf-8');
      const events: CanonicalStreamEvent[] = [
        { type: 'start', id: 'upstream-id', model: 'claude-sonnet-4-5' },
        { type: 'reasoning-delta', text: 'hm' },
        { type: 'text-delta', text: 'Hi' },
        { type: 'tool-call-start', index: 0, id: 'toolu_1', name: 'lookup' },
        { type: 'tool-call-delta', index: 0, argumentsDelta: '{"q":1}' },
        { type: 'usage', usage },
        { type: 'finish', stopReason: 'tool_use' },
      ];
      const text = events.map((e) => enc.encode(e)).join('') + enc.end({ costUsd: 0.5 });
      const head = {
        id: 'chatcmpl-x',
        object: 'chat.completion.chunk',
        created: 1,
        model: 'claude-sonnet-4-5',
      };
      const choice = (delta: object, finish: string | null = null) => ({
        ...head,
        choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }],
      });
      expect(dataEvents(text)).toEqual([
        choice({ role: 'assistant', content: '' }),
        choice({ reasoning_content: 'hm' }),
        choice({ content: 'Hi' }),
        choice({
          tool_calls: [
            { index: 0, id: 'toolu_1', type: 'function', function: { name: 'lookup', arguments: '' } },
          ],
        }),
        choice({ tool_calls: [{ index: 0, function: { arguments: '{"q":1}' } }] }),
        choice({}, 'tool_calls'),
        {
          ...head,
          choices: [],
          usage: {
            prompt_tokens: 2006,
            completion_tokens: 300,
            total_tokens: 2306,
            prompt_tokens_details: { cached_tokens: 1920 },
            completion_tokens_details: { reasoning_tokens: 192 },
            cost: 0.5,
          },
        },
        '[DONE]',
      ]);
      expect(enc.end()).toBe('');
    });

    it('sends no usage chunk unless the client asked for it, and ends with a finish even without one', () => {
      const req = openai.decodeRequest({
        model: 'gpt-4o',
        messages: [{ role: 'user', content: 'hi' }],
        stream: true,
      });
      const enc = openai.createStreamEncoder(req, { id: 'c', created: 1 });
      const out = dataEvents(enc.encode({ type: 'text-delta', text: 'x' }) + enc.end({ usage }));
      expect(out).toHaveLength(4);
      expect(out[2]).toMatchObject({ choices: [{ finish_reason: 'stop' }] });
      expect(out[3]).toBe('[DONE]');
    });

    it('writes a mid-stream error in the error envelope and stops there', () => {
      const enc = openai.createStreamEncoder(
        openai.decodeRequest({ model: 'm', messages: [{ role: 'user', content: 'x' }] }),
      );
      const err = enc.encode({
        type: 'error',
        status: 529,
        errorType: 'overloaded_error',
        message: 'Overloaded',
      });
      expect(dataEvents(err)).toEqual([
        { error: { type: 'overloaded_error', code: 'overloaded_error', message: 'Overloaded', param: null } },
      ]);
      expect(enc.encode({ type: 'text-delta', text: 'late' })).toBe('');
      expect(enc.end()).toBe('');
    });

    it('sniffs usage and completion from a relayed stream without translating it', () => {
      const sniffer = openai.createStreamUsageSniffer();
      const sse = openAiSse(OPENAI_TEXT_CHUNKS);
      for (let i = 0; i < sse.length; i += 50) sniffer.push(sse.slice(i, i + 50));
      expect(sniffer.result()).toEqual({
        usage: {
          inputTokens: 16,
          outputTokens: 300,
          cacheReadTokens: 0,
          cacheWrite5mTokens: 0,
          cacheWrite1hTokens: 0,
          reasoningTokens: 0,
        },
        completed: true,
      });
      const cut = openai.createStreamUsageSniffer();
      cut.push(`data: ${OPENAI_TEXT_CHUNKS[1]}\n\n`);
      expect(cut.result()).toEqual({ completed: false });
    });
  });

  describe('errors', () => {
    it('writes the OpenAI envelope, with the upstream type when relaying an upstream error', () => {
      expect(openai.encodeError({ status: 402, code: 'insufficient_balance', message: 'Top up' })).toEqual({
        error: { type: 'insufficient_balance', code: 'insufficient_balance', message: 'Top up', param: null },
      });
      expect(
        openai.encodeError({
          status: 429,
          code: 'upstream_rate_limited',
          message: 'slow down',
          upstreamType: 'rate_limit_error',
        }),
      ).toEqual({
        error: { type: 'rate_limit_error', code: 'upstream_rate_limited', message: 'slow down', param: null },
      });
      expect(
        openai.encodeError({ status: 400, code: 'invalid_request_error', message: 'bad', param: 'messages' }),
      ).toMatchObject({
        error: { param: 'messages' },
      });
    });

    it('keeps the provider type and message of upstream errors, whatever their shape', () => {
      const official = JSON.stringify({
        error: {
          message: 'Incorrect API key provided: sk-***.',
          type: 'invalid_request_error',
          param: null,
          code: 'invalid_api_key',
        },
      });
      expect(openai.decodeUpstreamError(401, official)).toEqual({
        type: 'invalid_request_error',
        message: 'Incorrect API key provided: sk-***.',
      });
      expect(openai.decodeUpstreamError(500, '{"error":"boom"}')).toEqual({
        type: 'api_error',
        message: 'boom',
      });
      expect(openai.decodeUpstreamError(502, '<html>Bad gateway</html>')).toEqual({
        type: 'api_error',
        message: '<html>Bad gateway</html>',
      });
      expect(openai.decodeUpstreamError(429, '')).toEqual({
        type: 'rate_limit_error',
        message: 'upstream returned HTTP 429',
      });
    });
  });

  describe('encodeUpstreamRequest', () => {
    it('always asks for stream usage and uses max_completion_tokens', () => {
      const req = openai.decodeRequest({
        model: 'alias',
        messages: [{ role: 'user', content: 'hi' }],
        stream: true,
        max_tokens: 9,
      });
      expect(openai.encodeUpstreamRequest(req, 'gpt-4o-2024-08-06')).toEqual({
        path: '/chat/completions',
        body: {
          model: 'gpt-4o-2024-08-06',
          messages: [{ role: 'user', content: 'hi' }],
          stream: true,
          stream_options: { include_usage: true },
          max_completion_tokens: 9,
        },
      });
    });

    it('moves images a tool returned into a user message after the run of tool messages', () => {
      const req: CanonicalRequest = {
        model: 'm',
        stream: false,
        messages: [
          {
            role: 'assistant',
            content: [
              { type: 'tool_call', id: 'a', name: 'shot', arguments: '{}' },
              { type: 'tool_call', id: 'b', name: 'shot', arguments: '{}' },
            ],
          },
          {
            role: 'tool',
            content: [
              {
                type: 'tool_result',
                toolCallId: 'a',
                content: [
                  { type: 'text', text: 'screen' },
                  { type: 'image', source: { kind: 'base64', mediaType: 'image/png', data: 'AAA' } },
                ],
              },
            ],
          },
          { role: 'tool', content: [{ type: 'tool_result', toolCallId: 'b', content: 'none' }] },
        ],
      };
      const messages = openai.encodeUpstreamRequest(req, 'm').body.messages as Array<Record<string, unknown>>;
      expect(messages.map((m) => m.role)).toEqual(['assistant', 'tool', 'tool', 'user']);
      expect(messages[3].content).toEqual([
        { type: 'text', text: 'Images returned by the tool call(s) above:' },
        { type: 'image_url', image_url: { url: 'data:image/png;base64,AAA' } },
      ]);
    });

    it('refuses another format’s content and built-in tools instead of dropping them', () => {
      const base: CanonicalRequest = { model: 'm', stream: false, messages: [] };
      const doc: CanonicalRequest = {
        ...base,
        messages: [
          { role: 'user', content: [{ type: 'opaque', format: 'anthropic', kind: 'document', value: {} }] },
        ],
      };
      expect(() => openai.encodeUpstreamRequest(doc, 'm')).toThrow(UnsupportedFeatureError);
      expect(() => openai.encodeUpstreamRequest(doc, 'm')).toThrow(
        '`messages[0].content[0]` (Anthropic "document") cannot be sent to OpenAI-format channels',
      );
      const search: CanonicalRequest = {
        ...base,
        messages: [{ role: 'user', content: [{ type: 'text', text: 'hi' }] }],
        tools: [
          {
            name: 'web_search',
            builtin: { format: 'anthropic', definition: { type: 'web_search_20250305', name: 'web_search' } },
          },
        ],
      };
      expect(() => openai.encodeUpstreamRequest(search, 'm')).toThrow(
        'tool "web_search" is built into Anthropic and cannot run on OpenAI-format channels',
      );
    });
  });
});
