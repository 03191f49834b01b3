import {
  feed,
  GEMINI_429_BODY,
  GEMINI_COMPLETE_USAGE,
  GEMINI_REASONING_CHUNKS,
  GEMINI_TOOL_CALL_CHUNKS,
  GEMINI_TOOL_CALL_RESPONSE,
  GEMINI_TOOL_USE_USAGE,
  geminiSse,
} from '../__fixtures__/provider-payloads';
import { type CanonicalRequest, type CanonicalStreamEvent, totalInputTokens } from '../canonical';
import { UpstreamProtocolError } from '../relay.errors';
import { SseParser } from '../sse';
import { geminiAdapter as gemini } from './gemini.adapter';

function dataEvents(sse: string): unknown[] {
  const parser = new SseParser();
  return [...parser.push(sse), ...parser.end()].map((e) => JSON.parse(e.data));
}

describe('Gemini adapter', () => {
  describe('decodeRequest', () => {
    it('maps contents, function calls and responses (matched by name), tools and generation config', () => {
      const req = gemini.decodeRequest(
        {
          systemInstruction: { parts: [{ text: 'You are a weather bot.' }] },
          contents: [
            {
              role: 'user',
              parts: [
                { text: 'Weather in Paris?' },
                { inlineData: { mimeType: 'image/png', data: 'iVBOR' } },
              ],
            },
            {
              role: 'model',
              parts: [
                { text: 'Checking.', thought: true, thoughtSignature: 'sig-t' },
                { functionCall: { name: 'weather', args: { city: 'Paris' } }, thoughtSignature: 'sig-f' },
              ],
            },
            {
              role: 'user',
              parts: [{ functionResponse: { name: 'weather', response: { output: '18°C' } } }],
            },
          ],
          tools: [
            {
              functionDeclarations: [
                {
                  name: 'weather',
                  description: 'Weather by city',
                  parameters: {
                    type: 'OBJECT',
                    properties: { city: { type: 'STRING', nullable: true } },
                    required: ['city'],
                  },
                },
              ],
            },
            { googleSearch: {} },
          ],
          toolConfig: { functionCallingConfig: { mode: 'ANY', allowedFunctionNames: ['weather'] } },
          generation_config: {
            max_output_tokens: 256,
            temperature: 0.5,
            stopSequences: ['END'],
            responseMimeType: 'application/json',
            responseJsonSchema: { type: 'object' },
            thinkingConfig: { thinkingBudget: 2048, includeThoughts: true },
            candidateCount: 1,
          },
          safetySettings: [{ category: 'HARM_CATEGORY_HARASSMENT', threshold: 'BLOCK_NONE' }],
        },
        { modelFromPath: 'models/gemini-2.5-flash', streamFromPath: true },
      );
      expect(req).toEqual<CanonicalRequest>({
        model: 'gemini-2.5-flash',
        system: 'You are a weather bot.',
        messages: [
          {
            role: 'user',
            content: [
              { type: 'text', text: 'Weather in Paris?' },
              { type: 'image', source: { kind: 'base64', mediaType: 'image/png', data: 'iVBOR' } },
            ],
          },
          {
            role: 'assistant',
            content: [
              { type: 'reasoning', text: 'Checking.', signature: { format: 'gemini', value: 'sig-t' } },
              {
                type: 'tool_call',
                id: 'call_1_1',
                name: 'weather',
                arguments: '{"city":"Paris"}',
                signature: { format: 'gemini', value: 'sig-f' },
              },
            ],
          },
          { role: 'tool', content: [{ type: 'tool_result', toolCallId: 'call_1_1', content: '18°C' }] },
        ],
        stream: true,
        tools: [
          {
            name: 'weather',
            description: 'Weather by city',
            parameters: {
              type: 'object',
              properties: { city: { type: ['string', 'null'] } },
              required: ['city'],
            },
          },
          { name: 'googleSearch', builtin: { format: 'gemini', definition: { googleSearch: {} } } },
        ],
        toolChoice: { name: 'weather' },
        maxTokens: 256,
        temperature: 0.5,
        stop: ['END'],
        responseFormat: { type: 'json_schema', schema: { type: 'object' } },
        reasoning: { enabled: true, budgetTokens: 2048 },
        extra: {
          format: 'gemini',
          params: {
            generationConfig: { candidateCount: 1 },
            safetySettings: [{ category: 'HARM_CATEGORY_HARASSMENT', threshold: 'BLOCK_NONE' }],
          },
        },
      });
    });

    it('requires the model from the path and non-empty contents', () => {
      expect(() => gemini.decodeRequest({ contents: [{ parts: [{ text: 'x' }] }] })).toThrow(
        /model is required in the path/,
      );
      expect(() => gemini.decodeRequest({ contents: [] }, { modelFromPath: 'gemini-2.5-pro' })).toThrow(
        '`contents` must not be empty',
      );
      expect(() =>
        gemini.decodeRequest({ contents: [{ role: 'bot', parts: [] }] }, { modelFromPath: 'g' }),
      ).toThrow('`contents[0].role` must be "user" or "model"');
    });

    it('reads thinkingBudget 0 as reasoning off and thinkingLevel as an effort', () => {
      const ctx = { modelFromPath: 'gemini-3-flash' };
      const contents = [{ parts: [{ text: 'x' }] }];
      expect(
        gemini.decodeRequest({ contents, generationConfig: { thinkingConfig: { thinkingBudget: 0 } } }, ctx)
          .reasoning,
      ).toEqual({
        enabled: false,
      });
      expect(
        gemini.decodeRequest(
          { contents, generationConfig: { thinkingConfig: { thinkingLevel: 'LOW' } } },
          ctx,
        ).reasoning,
      ).toEqual({
        enabled: true,
        effort: 'low',
      });
    });
  });

  describe('usage mapping', () => {
    it('adds tool-use prompts to input, splits cached content out, and adds thoughts to output', () => {
      const u = gemini.extractUsageFromResponse({ usageMetadata: GEMINI_COMPLETE_USAGE })!;
      expect(u).toEqual({
        inputTokens: 19 - 3 + 63,
        outputTokens: 4 + 56,
        cacheReadTokens: 3,
        cacheWrite5mTokens: 0,
        cacheWrite1hTokens: 0,
        reasoningTokens: 56,
      });
      // Every token once: the buckets add up to Gemini's own totalTokenCount.
      expect(totalInputTokens(u) + u.outputTokens).toBe(GEMINI_COMPLETE_USAGE.totalTokenCount);
      const tools = gemini.extractUsageFromResponse({ usageMetadata: GEMINI_TOOL_USE_USAGE })!;
      expect(totalInputTokens(tools) + tools.outputTokens).toBe(GEMINI_TOOL_USE_USAGE.totalTokenCount);
    });

    it('encodes usage back so candidates exclude thoughts and the prompt includes the cache', () => {
      const body = gemini.encodeResponse(
        {
          id: 'r',
          model: 'gemini-2.5-pro',
          content: [{ type: 'text', text: '42' }],
          stopReason: 'end_turn',
          usage: {
            inputTokens: 79,
            outputTokens: 60,
            cacheReadTokens: 3,
            cacheWrite5mTokens: 0,
            cacheWrite1hTokens: 0,
            reasoningTokens: 56,
          },
        },
        { costUsd: 0.002 },
      );
      expect(body.usageMetadata).toEqual({
        promptTokenCount: 82,
        candidatesTokenCount: 4,
        totalTokenCount: 142,
        cachedContentTokenCount: 3,
        thoughtsTokenCount: 56,
        cost: 0.002,
      });
    });
  });

  describe('responses', () => {
    it('decodes a recorded function-call response, keeping the thought signature for Gemini only', () => {
      expect(gemini.decodeUpstreamResponse(GEMINI_TOOL_CALL_RESPONSE)).toEqual({
        id: 'm36LaZGyCLz1xs0PtNSB-QU',
        model: 'gemini-3-pro-preview',
        content: [
          {
            type: 'tool_call',
            id: 'call_m36LaZGyCLz1xs0PtNSB-QU_0',
            name: 'weather',
            arguments: '{"location":"San Francisco"}',
            signature: {
              format: 'gemini',
              value: GEMINI_TOOL_CALL_RESPONSE.candidates[0].content.parts[0].thoughtSignature,
            },
          },
        ],
        stopReason: 'tool_use',
        usage: {
          inputTokens: 29,
          outputTokens: 15 + 893,
          cacheReadTokens: 0,
          cacheWrite5mTokens: 0,
          cacheWrite1hTokens: 0,
          reasoningTokens: 893,
        },
      });
    });

    it('reads a blocked prompt as a content filter stop and rejects a body with no candidates', () => {
      const blocked = gemini.decodeUpstreamResponse({
        promptFeedback: { blockReason: 'SAFETY' },
        usageMetadata: { promptTokenCount: 8 },
      });
      expect(blocked).toMatchObject({ content: [], stopReason: 'content_filter', usage: { inputTokens: 8 } });
      expect(() => gemini.decodeUpstreamResponse({})).toThrow(UpstreamProtocolError);
    });

    it('encodes a GenerateContentResponse', () => {
      expect(
        gemini.encodeResponse({
          id: 'resp-1',
          model: 'gemini-2.5-flash',
          content: [
            { type: 'reasoning', text: 'hm' },
            { type: 'text', text: 'Calling.' },
            { type: 'tool_call', id: 'call_1', name: 'weather', arguments: '{"city":"Paris"}' },
          ],
          stopReason: 'tool_use',
        }),
      ).toEqual({
        candidates: [
          {
            content: {
              role: 'model',
              parts: [
                { text: 'hm', thought: true },
                { text: 'Calling.' },
                { functionCall: { id: 'call_1', name: 'weather', args: { city: 'Paris' } } },
              ],
            },
            finishReason: 'STOP',
            index: 0,
          },
        ],
        modelVersion: 'gemini-2.5-flash',
        responseId: 'resp-1',
      });
    });
  });

  describe('streams', () => {
    it('decodes a recorded CRLF stream in any chunking, the last usage being the total', () => {
      const sse = geminiSse(GEMINI_REASONING_CHUNKS);
      const events = feed(gemini.createUpstreamStreamDecoder(), sse);
      const usage = (candidates: number) => ({
        type: 'usage',
        usage: {
          inputTokens: 9,
          outputTokens: candidates + 256,
          cacheReadTokens: 0,
          cacheWrite5mTokens: 0,
          cacheWrite1hTokens: 0,
          reasoningTokens: 256,
        },
      });
      expect(events).toEqual([
        { type: 'start', id: 'dX6LadKVC7SZ28oPr9yJoQs', model: 'gemini-3-pro-preview' },
        { type: 'text-delta', text: 'There are **3** "r"s in' },
        usage(10),
        { type: 'text-delta', text: ' strawberry.\n\nHere is the breakdown: st**r**awbe**rr**y.' },
        usage(29),
        usage(29),
        { type: 'finish', stopReason: 'end_turn' },
      ]);
      for (const size of [1, 2, 33])
        expect(feed(gemini.createUpstreamStreamDecoder(), sse, size)).toEqual(events);
    });

    it('decodes a streamed function call as a whole call', () => {
      const events = feed(gemini.createUpstreamStreamDecoder(), geminiSse(GEMINI_TOOL_CALL_CHUNKS), 40);
      expect(events.filter((e) => e.type.startsWith('tool') || e.type === 'finish')).toEqual<
        CanonicalStreamEvent[]
      >([
        { type: 'tool-call-start', index: 0, id: 'call_b36LacjwM668nsEP2tbsgQQ_0', name: 'weather' },
        { type: 'tool-call-delta', index: 0, argumentsDelta: '{"location":"San Francisco"}' },
        { type: 'finish', stopReason: 'tool_use' },
      ]);
    });

    it('turns an in-stream error and a cut stream into errors', () => {
      const failed = feed(gemini.createUpstreamStreamDecoder(), `data: ${GEMINI_429_BODY}\r\n\r\n`);
      expect(failed).toEqual([
        {
          type: 'error',
          status: 429,
          errorType: 'RESOURCE_EXHAUSTED',
          message: 'You exceeded your current quota, please check your plan.',
        },
      ]);
      const cut = feed(gemini.createUpstreamStreamDecoder(), geminiSse(GEMINI_REASONING_CHUNKS.slice(0, 2)));
      expect(cut.at(-1)).toMatchObject({ type: 'error', errorType: 'upstream_stream_incomplete' });
    });

    it('encodes text chunks and a last chunk with whole function calls, finishReason and usage', () => {
      const req = gemini.decodeRequest(
        { contents: [{ parts: [{ text: 'x' }] }] },
        { modelFromPath: 'gemini-2.5-pro', streamFromPath: true },
      );
      const enc = gemini.createStreamEncoder(req, { id: 'resp-9', model: 'gemini-2.5-pro' });
      const input: CanonicalStreamEvent[] = [
        { type: 'start', id: 'msg_1', model: 'claude' },
        { type: 'reasoning-delta', text: 'hm' },
        { type: 'text-delta', text: 'Hi' },
        { type: 'tool-call-start', index: 0, id: 'toolu_1', name: 'weather' },
        { type: 'tool-call-delta', index: 0, argumentsDelta: '{"city":' },
        { type: 'tool-call-delta', index: 0, argumentsDelta: '"Paris"}' },
        { type: 'finish', stopReason: 'tool_use' },
        {
          type: 'usage',
          usage: {
            inputTokens: 10,
            outputTokens: 5,
            cacheReadTokens: 0,
            cacheWrite5mTokens: 0,
            cacheWrite1hTokens: 0,
            reasoningTokens: 1,
          },
        },
      ];
      const sse = input.map((e) => enc.encode(e)).join('') + enc.end();
      const chunk = (parts: object[], extra: object = {}, usage?: object) => ({
        candidates: [{ content: { role: 'model', parts }, index: 0, ...extra }],
        ...(usage ? { usageMetadata: usage } : {}),
        modelVersion: 'gemini-2.5-pro',
        responseId: 'resp-9',
      });
      expect(dataEvents(sse)).toEqual([
        chunk([{ text: 'hm', thought: true }]),
        chunk([{ text: 'Hi' }]),
        chunk(
          [{ functionCall: { id: 'toolu_1', name: 'weather', args: { city: 'Paris' } } }],
          { finishReason: 'STOP' },
          { promptTokenCount: 10, candidatesTokenCount: 4, totalTokenCount: 15, thoughtsTokenCount: 1 },
        ),
      ]);
    });

    it('sniffs the last cumulative usageMetadata of a relayed stream', () => {
      const sniffer = gemini.createStreamUsageSniffer();
      sniffer.push(geminiSse(GEMINI_REASONING_CHUNKS));
      expect(sniffer.result()).toEqual({
        usage: {
          inputTokens: 9,
          outputTokens: 285,
          cacheReadTokens: 0,
          cacheWrite5mTokens: 0,
          cacheWrite1hTokens: 0,
          reasoningTokens: 256,
        },
        completed: true,
      });
    });
  });

  describe('errors', () => {
    it.each([
      [400, 'INVALID_ARGUMENT'],
      [401, 'UNAUTHENTICATED'],
      [402, 'FAILED_PRECONDITION'],
      [403, 'PERMISSION_DENIED'],
      [404, 'NOT_FOUND'],
      [413, 'INVALID_ARGUMENT'],
      [429, 'RESOURCE_EXHAUSTED'],
      [500, 'INTERNAL'],
      [502, 'UNAVAILABLE'],
      [503, 'UNAVAILABLE'],
      [504, 'DEADLINE_EXCEEDED'],
    ])('writes HTTP %i as %s with our code in the message', (status, name) => {
      expect(gemini.encodeError({ status, code: 'some_code', message: 'went wrong' })).toEqual({
        error: { code: status, message: '[some_code] went wrong', status: name },
      });
    });

    it('keeps the provider status and message, also when wrapped in an array', () => {
      const expected = {
        type: 'RESOURCE_EXHAUSTED',
        message: 'You exceeded your current quota, please check your plan.',
      };
      expect(gemini.decodeUpstreamError(429, GEMINI_429_BODY)).toEqual(expected);
      expect(gemini.decodeUpstreamError(429, `[${GEMINI_429_BODY}]`)).toEqual(expected);
      expect(gemini.decodeUpstreamError(503, 'Service Unavailable')).toEqual({
        type: 'UNAVAILABLE',
        message: 'Service Unavailable',
      });
    });
  });

  describe('encodeUpstreamRequest', () => {
    const base: CanonicalRequest = {
      model: 'alias',
      stream: false,
      messages: [{ role: 'user', content: [{ type: 'text', text: 'hi' }] }],
    };

    it('puts the model and the streaming mode in the path', () => {
      expect(gemini.encodeUpstreamRequest(base, 'gemini-2.5-flash').path).toBe(
        '/v1beta/models/gemini-2.5-flash:generateContent',
      );
      expect(gemini.encodeUpstreamRequest({ ...base, stream: true }, 'models/gemini-2.5-flash').path).toBe(
        '/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse',
      );
    });

    it('sends tools as JSON Schema, names function responses after their call, and maps settings', () => {
      const req: CanonicalRequest = {
        ...base,
        system: 'Be brief.',
        messages: [
          ...base.messages,
          {
            role: 'assistant',
            content: [{ type: 'tool_call', id: 'call_abc', name: 'weather', arguments: '{"city":"Paris"}' }],
          },
          { role: 'tool', content: [{ type: 'tool_result', toolCallId: 'call_abc', content: '18°C' }] },
          { role: 'system', content: [{ type: 'text', text: 'Use Celsius.' }] },
        ],
        tools: [
          {
            name: 'weather',
            description: 'Weather',
            parameters: { type: 'object', additionalProperties: false },
          },
        ],
        toolChoice: 'required',
        maxTokens: 100,
        topK: 3,
        responseFormat: { type: 'json_schema', schema: { type: 'object' } },
        reasoning: { enabled: true, effort: 'low' },
      };
      expect(gemini.encodeUpstreamRequest(req, 'gemini-2.5-pro').body).toEqual({
        contents: [
          { role: 'user', parts: [{ text: 'hi' }] },
          {
            role: 'model',
            parts: [{ functionCall: { id: 'call_abc', name: 'weather', args: { city: 'Paris' } } }],
          },
          {
            role: 'user',
            parts: [{ functionResponse: { id: 'call_abc', name: 'weather', response: { output: '18°C' } } }],
          },
        ],
        systemInstruction: { parts: [{ text: 'Be brief.\n\nUse Celsius.' }] },
        tools: [
          {
            functionDeclarations: [
              {
                name: 'weather',
                description: 'Weather',
                parametersJsonSchema: { type: 'object', additionalProperties: false },
              },
            ],
          },
        ],
        toolConfig: { functionCallingConfig: { mode: 'ANY' } },
        generationConfig: {
          maxOutputTokens: 100,
          topK: 3,
          responseMimeType: 'application/json',
          responseJsonSchema: { type: 'object' },
          thinkingConfig: { includeThoughts: true, thinkingBudget: 1024 },
        },
      });
    });

    it('replays Gemini signatures and fills in the documented skip value for Gemini 3 only', () => {
      const history = (signature?: { format: 'gemini' | 'anthropic'; value: string }): CanonicalRequest => ({
        ...base,
        messages: [
          ...base.messages,
          {
            role: 'assistant',
            content: [
              { type: 'reasoning', text: 'secret', signature: { format: 'anthropic', value: 'a-sig' } },
              {
                type: 'tool_call',
                id: 'c1',
                name: 'f',
                arguments: '{}',
                ...(signature ? { signature } : {}),
              },
              { type: 'tool_call', id: 'c2', name: 'f', arguments: '{}' },
            ],
          },
        ],
      });
      const modelParts = (req: CanonicalRequest, model: string) =>
        (gemini.encodeUpstreamRequest(req, model).body.contents as Array<{ parts: unknown[] }>)[1].parts;
      expect(modelParts(history(), 'gemini-3-pro-preview')).toEqual([
        {
          functionCall: { id: 'c1', name: 'f', args: {} },
          thoughtSignature: 'skip_thought_signature_validator',
        },
        { functionCall: { id: 'c2', name: 'f', args: {} } },
      ]);
      expect(modelParts(history({ format: 'gemini', value: 'g-sig' }), 'gemini-3-flash')).toEqual([
        { functionCall: { id: 'c1', name: 'f', args: {} }, thoughtSignature: 'g-sig' },
        { functionCall: { id: 'c2', name: 'f', args: {} } },
      ]);
      expect(modelParts(history(), 'gemini-2.5-flash')).toEqual([
        { functionCall: { id: 'c1', name: 'f', args: {} } },
        { functionCall: { id: 'c2', name: 'f', args: {} } },
      ]);
    });

    it('merges Gemini passthrough settings back into a Gemini body', () => {
      const req = gemini.decodeRequest(
        {
          contents: [{ parts: [{ text: 'x' }] }],
          generationConfig: { candidateCount: 1, temperature: 0 },
          cachedContent: 'cachedContents/abc',
        },
        { modelFromPath: 'gemini-2.5-pro' },
      );
      expect(gemini.encodeUpstreamRequest(req, 'gemini-2.5-pro').body).toEqual({
        cachedContent: 'cachedContents/abc',
        contents: [{ role: 'user', parts: [{ text: 'x' }] }],
        generationConfig: { candidateCount: 1, temperature: 0 },
      });
    });
  });
});
