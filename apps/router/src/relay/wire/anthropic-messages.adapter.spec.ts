import {
  ANTHROPIC_CACHE_USAGE,
  ANTHROPIC_DELTA_INPUT_EVENTS,
  ANTHROPIC_THINKING_EVENTS,
  ANTHROPIC_THINKING_TOOL_RESPONSE,
  ANTHROPIC_TOOL_EVENTS,
  anthropicSse,
  feed,
} from '../__fixtures__/provider-payloads';
import type { CanonicalRequest, CanonicalStreamEvent, CanonicalUsage } from '../canonical';
import { SseParser } from '../sse';
import { anthropicMessagesAdapter as anthropic } from './anthropic-messages.adapter';

function namedEvents(sse: string): Array<{ event: string; data: unknown }> {
  const parser = new SseParser();
  return [...parser.push(sse), ...parser.end()].map((e) => ({ event: e.event, data: JSON.parse(e.data) }));
}

const cacheUsage: CanonicalUsage = {
  inputTokens: 21,
  outputTokens: 393,
  cacheReadTokens: 5000,
  cacheWrite5mTokens: 300,
  cacheWrite1hTokens: 1500,
  reasoningTokens: 0,
};

describe('Anthropic Messages adapter', () => {
  describe('decodeRequest', () => {
    it('maps system blocks, images, thinking, tool use and splits tool results into a tool turn', () => {
      const req = anthropic.decodeRequest({
        model: 'claude-sonnet-4-5',
        max_tokens: 2048,
        system: [
          { type: 'text', text: 'You are terse.', cache_control: { type: 'ephemeral' } },
          { type: 'text', text: 'Use tools.' },
        ],
        messages: [
          {
            role: 'user',
            content: [
              { type: 'image', source: { type: 'base64', media_type: 'image/jpeg', data: '/9j/4AAQ' } },
              { type: 'text', text: 'Weather here?' },
            ],
          },
          {
            role: 'assistant',
            content: [
              { type: 'thinking', thinking: 'Need the tool.', signature: 'sig-1' },
              { type: 'tool_use', id: 'toolu_1', name: 'get_weather', input: { city: 'Paris' } },
            ],
          },
          {
            role: 'user',
            content: [
              {
                type: 'tool_result',
                tool_use_id: 'toolu_1',
                content: [{ type: 'text', text: '18°C' }],
                is_error: false,
              },
              { type: 'text', text: 'And tomorrow?' },
            ],
          },
        ],
        tools: [
          {
            name: 'get_weather',
            description: 'Weather',
            input_schema: { type: 'object', properties: { city: { type: 'string' } } },
          },
          { type: 'web_search_20250305', name: 'web_search', max_uses: 3 },
        ],
        tool_choice: { type: 'any', disable_parallel_tool_use: true },
        thinking: { type: 'enabled', budget_tokens: 1500 },
        stop_sequences: ['\n\nHuman:'],
        top_k: 5,
        metadata: { user_id: 'u-1' },
        stream: true,
        service_tier: 'auto',
      });
      expect(req).toEqual<CanonicalRequest>({
        model: 'claude-sonnet-4-5',
        system: 'You are terse.\nUse tools.',
        messages: [
          {
            role: 'user',
            content: [
              { type: 'image', source: { kind: 'base64', mediaType: 'image/jpeg', data: '/9j/4AAQ' } },
              { type: 'text', text: 'Weather here?' },
            ],
          },
          {
            role: 'assistant',
            content: [
              {
                type: 'reasoning',
                text: 'Need the tool.',
                signature: { format: 'anthropic', value: 'sig-1' },
              },
              { type: 'tool_call', id: 'toolu_1', name: 'get_weather', arguments: '{"city":"Paris"}' },
            ],
          },
          {
            role: 'tool',
            content: [
              { type: 'tool_result', toolCallId: 'toolu_1', content: [{ type: 'text', text: '18°C' }] },
            ],
          },
          { role: 'user', content: [{ type: 'text', text: 'And tomorrow?' }] },
        ],
        stream: true,
        maxTokens: 2048,
        topK: 5,
        stop: ['\n\nHuman:'],
        tools: [
          {
            name: 'get_weather',
            description: 'Weather',
            parameters: { type: 'object', properties: { city: { type: 'string' } } },
          },
          {
            name: 'web_search',
            builtin: {
              format: 'anthropic',
              definition: { type: 'web_search_20250305', name: 'web_search', max_uses: 3 },
            },
          },
        ],
        toolChoice: 'required',
        parallelToolCalls: false,
        reasoning: { enabled: true, budgetTokens: 1500 },
        user: 'u-1',
        extra: { format: 'anthropic', params: { service_tier: 'auto' } },
      });
    });

    it('reads structured output and effort from output_config', () => {
      const req = anthropic.decodeRequest({
        model: 'claude-opus-4-6',
        max_tokens: 100,
        messages: [{ role: 'user', content: 'hi' }],
        thinking: { type: 'adaptive' },
        output_config: { effort: 'max', format: { type: 'json_schema', schema: { type: 'object' } } },
      });
      expect(req.reasoning).toEqual({ enabled: true, effort: 'high' });
      expect(req.responseFormat).toEqual({ type: 'json_schema', schema: { type: 'object' } });
    });

    it('names the field it cannot read', () => {
      expect(() => anthropic.decodeRequest({ model: 'c', messages: [{ role: 'user', content: 5 }] })).toThrow(
        '`messages[0].content` must be an array',
      );
      expect(() =>
        anthropic.decodeRequest({
          model: 'c',
          messages: [{ role: 'user', content: 'x' }],
          tool_choice: { type: 'sometimes' },
        }),
      ).toThrow('`tool_choice.type` must be one of auto, any, tool, none');
    });
  });

  describe('usage mapping', () => {
    it('keeps input, cache reads and both cache-write TTLs disjoint', () => {
      const u = anthropic.extractUsageFromResponse({ usage: ANTHROPIC_CACHE_USAGE });
      expect(u).toEqual(cacheUsage);
      // Anthropic: total input = input_tokens + cache_creation_input_tokens + cache_read_input_tokens.
      expect(u!.inputTokens + u!.cacheReadTokens + u!.cacheWrite5mTokens + u!.cacheWrite1hTokens).toBe(
        21 + 1800 + 5000,
      );
    });

    it('counts cache writes without a TTL breakdown as 5-minute writes', () => {
      expect(
        anthropic.extractUsageFromResponse({
          usage: { input_tokens: 5, cache_creation_input_tokens: 700, output_tokens: 1 },
        }),
      ).toMatchObject({ cacheWrite5mTokens: 700, cacheWrite1hTokens: 0 });
    });

    it('round-trips canonical usage through the Anthropic shape without loss', () => {
      const body = anthropic.encodeResponse({
        id: 'm',
        model: 'c',
        content: [],
        stopReason: 'end_turn',
        usage: cacheUsage,
      });
      expect(anthropic.extractUsageFromResponse(body)).toEqual(cacheUsage);
    });
  });

  describe('responses', () => {
    it('decodes a recorded thinking + tool_use response', () => {
      expect(anthropic.decodeUpstreamResponse(ANTHROPIC_THINKING_TOOL_RESPONSE)).toEqual({
        id: 'msg_011CfWBu94HWxZXjXK6ZhEXM',
        model: 'claude-sonnet-4-6',
        content: [
          {
            type: 'reasoning',
            text: 'The user wants me to call checkSandboxErrors immediately.',
            signature: { format: 'anthropic', value: ANTHROPIC_THINKING_TOOL_RESPONSE.content[0].signature },
          },
          {
            type: 'tool_call',
            id: 'toolu_017R7ACrx7NF7sLDDtvdQ1u9',
            name: 'checkSandboxErrors',
            arguments: '{}',
          },
        ],
        stopReason: 'tool_use',
        usage: {
          inputTokens: 599,
          outputTokens: 59,
          cacheReadTokens: 0,
          cacheWrite5mTokens: 0,
          cacheWrite1hTokens: 0,
          reasoningTokens: 18,
        },
      });
    });

    it('encodes a Message with cost and a refusal as stop_reason "refusal"', () => {
      const body = anthropic.encodeResponse(
        {
          id: 'msg_1',
          model: 'claude-x',
          content: [
            { type: 'reasoning', text: 'hm', signature: { format: 'gemini', value: 'not-for-anthropic' } },
            { type: 'text', text: 'No.' },
            { type: 'tool_call', id: 'call_1', name: 'f', arguments: '{"a":1}' },
          ],
          stopReason: 'content_filter',
          usage: cacheUsage,
        },
        { costUsd: 1.25 },
      );
      expect(body).toEqual({
        id: 'msg_1',
        type: 'message',
        role: 'assistant',
        model: 'claude-x',
        content: [
          { type: 'thinking', thinking: 'hm', signature: '' },
          { type: 'text', text: 'No.' },
          { type: 'tool_use', id: 'call_1', name: 'f', input: { a: 1 } },
        ],
        stop_reason: 'refusal',
        stop_sequence: null,
        usage: {
          input_tokens: 21,
          output_tokens: 393,
          cache_creation_input_tokens: 1800,
          cache_read_input_tokens: 5000,
          cache_creation: { ephemeral_5m_input_tokens: 300, ephemeral_1h_input_tokens: 1500 },
          cost: 1.25,
        },
      });
    });
  });

  describe('streams', () => {
    it('decodes a recorded thinking stream in any chunking', () => {
      const sse = anthropicSse(ANTHROPIC_THINKING_EVENTS);
      const events = feed(anthropic.createUpstreamStreamDecoder(), sse);
      expect(events).toEqual<CanonicalStreamEvent[]>([
        { type: 'start', id: 'msg_01Y6V41gqPaKWEw7iPouH7iW', model: 'claude-sonnet-4-5-20250929' },
        {
          type: 'usage',
          usage: {
            inputTokens: 69,
            outputTokens: 2,
            cacheReadTokens: 0,
            cacheWrite5mTokens: 0,
            cacheWrite1hTokens: 0,
            reasoningTokens: 0,
          },
        },
        { type: 'reasoning-delta', text: 'The previous' },
        { type: 'reasoning-delta', text: ' result was 925.' },
        { type: 'text-delta', text: '925' },
        { type: 'text-delta', text: ' ÷ 5 ' },
        { type: 'text-delta', text: '= 185' },
        {
          type: 'usage',
          usage: {
            inputTokens: 69,
            outputTokens: 53,
            cacheReadTokens: 0,
            cacheWrite5mTokens: 0,
            cacheWrite1hTokens: 0,
            reasoningTokens: 0,
          },
        },
        { type: 'finish', stopReason: 'end_turn' },
      ]);
      for (const size of [1, 3, 100])
        expect(feed(anthropic.createUpstreamStreamDecoder(), sse, size)).toEqual(events);
      expect(feed(anthropic.createUpstreamStreamDecoder(), sse.replace(/\n/g, '\r\n'), 5)).toEqual(events);
    });

    it('decodes a recorded tool_use stream', () => {
      const events = feed(anthropic.createUpstreamStreamDecoder(), anthropicSse(ANTHROPIC_TOOL_EVENTS), 17);
      const args = events.flatMap((e) => (e.type === 'tool-call-delta' ? [e.argumentsDelta] : [])).join('');
      expect(events).toContainEqual({
        type: 'tool-call-start',
        index: 0,
        id: 'toolu_01KFbKqPYSuAKujiL6mTfzYA',
        name: 'json',
      });
      expect(JSON.parse(args)).toEqual({
        elements: [{ location: 'San Francisco', temperature: 58, condition: 'sunny' }],
      });
      expect(events.at(-1)).toEqual({ type: 'finish', stopReason: 'tool_use' });
      expect(events.filter((e) => e.type === 'usage').at(-1)).toMatchObject({
        usage: { inputTokens: 849, outputTokens: 47 },
      });
    });

    it('lets cumulative message_delta usage replace message_start usage', () => {
      const events = feed(
        anthropic.createUpstreamStreamDecoder(),
        anthropicSse(ANTHROPIC_DELTA_INPUT_EVENTS),
      );
      const last = events.filter((e) => e.type === 'usage').at(-1);
      expect(last).toMatchObject({ usage: { inputTokens: 61, outputTokens: 2 } });
    });

    it('turns an error event into an error, and a cut stream into an incomplete-stream error', () => {
      const overloaded =
        anthropicSse(ANTHROPIC_THINKING_EVENTS.slice(0, 4)) +
        'event: error\ndata: {"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}\n\n';
      expect(feed(anthropic.createUpstreamStreamDecoder(), overloaded).at(-1)).toEqual({
        type: 'error',
        status: 529,
        errorType: 'overloaded_error',
        message: 'Overloaded',
      });
      const cut = feed(
        anthropic.createUpstreamStreamDecoder(),
        anthropicSse(ANTHROPIC_THINKING_EVENTS.slice(0, 10)),
      );
      expect(cut.at(-1)).toMatchObject({
        type: 'error',
        status: 502,
        errorType: 'upstream_stream_incomplete',
      });
    });

    it('encodes the documented event sequence, message_start carrying the input usage', () => {
      const req = anthropic.decodeRequest({
        model: 'claude-x',
        max_tokens: 10,
        messages: [{ role: 'user', content: 'hi' }],
      });
      const enc = anthropic.createStreamEncoder(req, { id: 'msg_gw' });
      const input: CanonicalStreamEvent[] = [
        { type: 'start', id: 'chatcmpl-1', model: 'gpt-4o' },
        { type: 'usage', usage: { ...cacheUsage, outputTokens: 1 } },
        { type: 'reasoning-delta', text: 'Think' },
        { type: 'text-delta', text: 'Hi' },
        { type: 'tool-call-start', index: 0, id: 'call_1', name: 'f' },
        { type: 'tool-call-delta', index: 0, argumentsDelta: '{"a":' },
        { type: 'tool-call-delta', index: 0, argumentsDelta: '1}' },
        { type: 'finish', stopReason: 'tool_use' },
        { type: 'usage', usage: cacheUsage },
      ];
      const sse = input.map((e) => enc.encode(e)).join('') + enc.end({ costUsd: 0.01 });
      const usageStart = {
        input_tokens: 21,
        output_tokens: 1,
        cache_creation_input_tokens: 1800,
        cache_read_input_tokens: 5000,
        cache_creation: { ephemeral_5m_input_tokens: 300, ephemeral_1h_input_tokens: 1500 },
      };
      expect(namedEvents(sse)).toEqual([
        {
          event: 'message_start',
          data: {
            type: 'message_start',
            message: {
              id: 'msg_gw',
              type: 'message',
              role: 'assistant',
              model: 'gpt-4o',
              content: [],
              stop_reason: null,
              stop_sequence: null,
              usage: usageStart,
            },
          },
        },
        { event: 'ping', data: { type: 'ping' } },
        {
          event: 'content_block_start',
          data: {
            type: 'content_block_start',
            index: 0,
            content_block: { type: 'thinking', thinking: '', signature: '' },
          },
        },
        {
          event: 'content_block_delta',
          data: {
            type: 'content_block_delta',
            index: 0,
            delta: { type: 'thinking_delta', thinking: 'Think' },
          },
        },
        { event: 'content_block_stop', data: { type: 'content_block_stop', index: 0 } },
        {
          event: 'content_block_start',
          data: { type: 'content_block_start', index: 1, content_block: { type: 'text', text: '' } },
        },
        {
          event: 'content_block_delta',
          data: { type: 'content_block_delta', index: 1, delta: { type: 'text_delta', text: 'Hi' } },
        },
        { event: 'content_block_stop', data: { type: 'content_block_stop', index: 1 } },
        {
          event: 'content_block_start',
          data: {
            type: 'content_block_start',
            index: 2,
            content_block: { type: 'tool_use', id: 'call_1', name: 'f', input: {} },
          },
        },
        {
          event: 'content_block_delta',
          data: {
            type: 'content_block_delta',
            index: 2,
            delta: { type: 'input_json_delta', partial_json: '{"a":' },
          },
        },
        {
          event: 'content_block_delta',
          data: {
            type: 'content_block_delta',
            index: 2,
            delta: { type: 'input_json_delta', partial_json: '1}' },
          },
        },
        { event: 'content_block_stop', data: { type: 'content_block_stop', index: 2 } },
        {
          event: 'message_delta',
          data: {
            type: 'message_delta',
            delta: { stop_reason: 'tool_use', stop_sequence: null },
            usage: { ...usageStart, output_tokens: 393, cost: 0.01 },
          },
        },
        { event: 'message_stop', data: { type: 'message_stop' } },
      ]);
    });

    it('writes a mid-stream error as an `error` event', () => {
      const enc = anthropic.createStreamEncoder(
        anthropic.decodeRequest({ model: 'c', messages: [{ role: 'user', content: 'x' }] }),
      );
      expect(
        namedEvents(enc.error({ status: 503, code: 'upstream_unavailable', message: 'try later' })),
      ).toEqual([
        {
          event: 'error',
          data: { type: 'error', error: { type: 'upstream_unavailable', message: 'try later' } },
        },
      ]);
      expect(enc.end()).toBe('');
    });

    it('sniffs usage from message_start and the last message_delta of a relayed stream', () => {
      const sniffer = anthropic.createStreamUsageSniffer();
      const sse = anthropicSse(ANTHROPIC_DELTA_INPUT_EVENTS);
      for (let i = 0; i < sse.length; i += 9) sniffer.push(sse.slice(i, i + 9));
      expect(sniffer.result()).toEqual({
        usage: {
          inputTokens: 61,
          outputTokens: 2,
          cacheReadTokens: 0,
          cacheWrite5mTokens: 0,
          cacheWrite1hTokens: 0,
          reasoningTokens: 0,
        },
        completed: true,
      });
    });
  });

  describe('errors', () => {
    it('writes the Anthropic envelope', () => {
      expect(anthropic.encodeError({ status: 429, code: 'rate_limited', message: 'slow down' })).toEqual({
        type: 'error',
        error: { type: 'rate_limited', message: 'slow down' },
      });
    });

    it('keeps the provider type and message', () => {
      const body =
        '{"type":"error","error":{"type":"not_found_error","message":"The requested resource could not be found."}}';
      expect(anthropic.decodeUpstreamError(404, body)).toEqual({
        type: 'not_found_error',
        message: 'The requested resource could not be found.',
      });
      expect(anthropic.decodeUpstreamError(529, 'upstream connect error')).toEqual({
        type: 'overloaded_error',
        message: 'upstream connect error',
      });
    });
  });

  describe('encodeUpstreamRequest', () => {
    const base: CanonicalRequest = {
      model: 'alias',
      stream: false,
      messages: [{ role: 'user', content: [{ type: 'text', text: 'hi' }] }],
    };

    it('sends the required max_tokens and the API version header', () => {
      expect(anthropic.encodeUpstreamRequest(base, 'claude-haiku-4-5')).toEqual({
        path: '/v1/messages',
        headers: { 'anthropic-version': '2023-06-01' },
        body: {
          model: 'claude-haiku-4-5',
          max_tokens: 4096,
          messages: [{ role: 'user', content: [{ type: 'text', text: 'hi' }] }],
        },
      });
    });

    it('turns reasoning into thinking, keeps budget below max_tokens and drops sampling knobs', () => {
      const body = anthropic.encodeUpstreamRequest(
        { ...base, temperature: 0.3, reasoning: { enabled: true, effort: 'high' } },
        'claude-sonnet-4-5',
      ).body;
      expect(body).toMatchObject({
        max_tokens: 16384 + 4096,
        thinking: { type: 'enabled', budget_tokens: 16384 },
      });
      expect(body.temperature).toBeUndefined();
      const capped = anthropic.encodeUpstreamRequest(
        { ...base, maxTokens: 3000, reasoning: { enabled: true, budgetTokens: 8000 } },
        'c',
      ).body;
      expect(capped).toMatchObject({ max_tokens: 3000, thinking: { type: 'enabled', budget_tokens: 2999 } });
      const tiny = anthropic.encodeUpstreamRequest(
        { ...base, maxTokens: 500, reasoning: { enabled: true } },
        'c',
      ).body;
      expect(tiny.thinking).toBeUndefined();
    });

    it('leaves thinking off inside a tool loop whose tool call has no signed thinking, as Anthropic requires', () => {
      const body = anthropic.encodeUpstreamRequest(
        {
          ...base,
          reasoning: { enabled: true },
          messages: [
            ...base.messages,
            {
              role: 'assistant',
              content: [{ type: 'tool_call', id: 'functions.lookup:0', name: 'lookup', arguments: '{"q"' }],
            },
            {
              role: 'tool',
              content: [
                { type: 'tool_result', toolCallId: 'functions.lookup:0', content: 'ok', isError: true },
              ],
            },
          ],
        },
        'c',
      ).body;
      expect(body.thinking).toBeUndefined();
      const closedLoop = anthropic.encodeUpstreamRequest(
        {
          ...base,
          reasoning: { enabled: true },
          messages: [
            { role: 'assistant', content: [{ type: 'tool_call', id: 'c', name: 'lookup', arguments: '{}' }] },
            { role: 'tool', content: [{ type: 'tool_result', toolCallId: 'c', content: 'ok' }] },
            { role: 'assistant', content: [{ type: 'text', text: 'done' }] },
            ...base.messages,
          ],
        },
        'c',
      ).body;
      expect(closedLoop.thinking).toEqual({ type: 'enabled', budget_tokens: 4096 });
      expect(body.messages).toEqual([
        { role: 'user', content: [{ type: 'text', text: 'hi' }] },
        // Ids are made Anthropic-safe the same way on both sides; broken arguments become {}.
        {
          role: 'assistant',
          content: [{ type: 'tool_use', id: 'functions_lookup_0', name: 'lookup', input: {} }],
        },
        {
          role: 'user',
          content: [
            { type: 'tool_result', tool_use_id: 'functions_lookup_0', content: 'ok', is_error: true },
          ],
        },
      ]);
    });

    it('maps tool choice, parallel calls, JSON output and the user', () => {
      const body = anthropic.encodeUpstreamRequest(
        {
          ...base,
          system: 'Be nice.',
          tools: [{ name: 'f' }],
          parallelToolCalls: false,
          responseFormat: { type: 'json_object' },
          user: 'u-9',
        },
        'c',
      ).body;
      expect(body).toMatchObject({
        system: 'Be nice.\n\nRespond with a single valid JSON object and nothing else.',
        tools: [{ name: 'f', input_schema: { type: 'object', properties: {} } }],
        tool_choice: { type: 'auto', disable_parallel_tool_use: true },
        metadata: { user_id: 'u-9' },
      });
      const schema = anthropic.encodeUpstreamRequest(
        {
          ...base,
          toolChoice: { name: 'f' },
          tools: [{ name: 'f' }],
          responseFormat: { type: 'json_schema', schema: { type: 'object' } },
        },
        'c',
      ).body;
      expect(schema).toMatchObject({
        tool_choice: { type: 'tool', name: 'f' },
        output_config: { format: { type: 'json_schema', schema: { type: 'object' } } },
      });
    });
  });
});
