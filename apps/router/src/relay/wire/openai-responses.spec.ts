import { parseSse } from '../../../../../libs/testing/src/fake-upstreams';
import { UnsupportedFeatureError } from '../relay.errors';
import { decodeResponsesRequest, encodeResponsesResponse, ResponsesStreamEncoder } from './openai-responses';

describe('OpenAI Responses surface', () => {
  it('decodes instructions, input items, tools and text.format', () => {
    const req = decodeResponsesRequest({
      model: 'm',
      instructions: 'Be brief.',
      input: [
        { role: 'developer', content: 'Use metric units.' },
        {
          role: 'user',
          content: [
            { type: 'input_text', text: 'hi' },
            { type: 'input_image', image_url: 'data:image/png;base64,AAA' },
          ],
        },
        { type: 'function_call', call_id: 'c1', name: 'f', arguments: '{}' },
        { type: 'function_call_output', call_id: 'c1', output: 'ok' },
      ],
      tools: [{ type: 'function', name: 'f', parameters: { type: 'object' } }],
      tool_choice: { type: 'function', name: 'f' },
      max_output_tokens: 50,
      reasoning: { effort: 'high' },
      text: { format: { type: 'json_schema', name: 'x', schema: { type: 'object' } } },
    });
    expect(req).toMatchObject({
      model: 'm',
      system: 'Be brief.\n\nUse metric units.',
      maxTokens: 50,
      toolChoice: { name: 'f' },
      reasoning: { enabled: true, effort: 'high' },
      responseFormat: { type: 'json_schema', name: 'x', schema: { type: 'object' } },
    });
    expect(req.messages.map((m) => m.role)).toEqual(['user', 'assistant', 'tool']);
    expect(req.messages[0].content[1]).toEqual({
      type: 'image',
      source: { kind: 'base64', mediaType: 'image/png', data: 'AAA' },
    });
  });

  it('refuses what only OpenAI can serve, so the request is routed to OpenAI channels', () => {
    expect(() => decodeResponsesRequest({ model: 'm', input: 'x', previous_response_id: 'resp_1' })).toThrow(
      UnsupportedFeatureError,
    );
    expect(() =>
      decodeResponsesRequest({ model: 'm', input: [{ type: 'item_reference', id: 'x' }] }),
    ).toThrow(UnsupportedFeatureError);
  });

  it('encodes a Response with text before function calls and usage with cached tokens', () => {
    const res = encodeResponsesResponse(
      {
        id: 'msg_1',
        model: 'm',
        stopReason: 'tool_use',
        content: [
          { type: 'text', text: 'Let me look.' },
          { type: 'tool_call', id: 'c1', name: 'f', arguments: '{"a":1}' },
        ],
        usage: {
          inputTokens: 10,
          cacheReadTokens: 5,
          cacheWrite5mTokens: 0,
          cacheWrite1hTokens: 0,
          outputTokens: 3,
          reasoningTokens: 0,
        },
      },
      { costUsd: 0.01 },
    );
    expect(res).toMatchObject({
      object: 'response',
      status: 'completed',
      output: [
        { type: 'message', role: 'assistant', content: [{ type: 'output_text', text: 'Let me look.' }] },
        { type: 'function_call', call_id: 'c1', name: 'f', arguments: '{"a":1}' },
      ],
      usage: { input_tokens: 15, input_tokens_details: { cached_tokens: 5 }, output_tokens: 3, cost: 0.01 },
    });
  });

  it('streams the event sequence with increasing sequence numbers', () => {
    const encoder = new ResponsesStreamEncoder('m');
    let text = encoder.encode({ type: 'start', id: 'x', model: 'm' });
    text += encoder.encode({ type: 'text-delta', text: 'Hel' });
    text += encoder.encode({ type: 'text-delta', text: 'lo' });
    text += encoder.encode({ type: 'finish', stopReason: 'max_tokens' });
    text += encoder.end({
      usage: {
        inputTokens: 1,
        cacheReadTokens: 0,
        cacheWrite5mTokens: 0,
        cacheWrite1hTokens: 0,
        outputTokens: 2,
        reasoningTokens: 0,
      },
    });
    const events = parseSse(text);
    expect(events.map((e) => e.event)).toEqual([
      'response.created',
      'response.in_progress',
      'response.output_item.added',
      'response.content_part.added',
      'response.output_text.delta',
      'response.output_text.delta',
      'response.output_text.done',
      'response.content_part.done',
      'response.output_item.done',
      'response.incomplete',
    ]);
    const data = events.map(
      (e) => JSON.parse(e.data) as { sequence_number: number; response?: { output: unknown[] } },
    );
    expect(data.map((d) => d.sequence_number)).toEqual(data.map((_, i) => i));
    expect(data.at(-1)!.response!.output).toEqual([
      expect.objectContaining({ type: 'message', status: 'completed' }),
    ]);
  });
});
