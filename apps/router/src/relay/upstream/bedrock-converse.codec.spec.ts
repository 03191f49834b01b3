import { EventStreamCodec } from '@smithy/eventstream-codec';
import { fromUtf8, toUtf8 } from '@smithy/util-utf8';
import type { CanonicalRequest } from '../canonical';
import {
  BedrockStreamDecoder,
  decodeBedrockError,
  decodeBedrockResponse,
  encodeBedrockRequest,
} from './bedrock-converse.codec';

const codec = new EventStreamCodec(toUtf8, fromUtf8);
const frame = (type: string, payload: unknown, messageType = 'event') =>
  codec.encode({
    headers: {
      ':message-type': { type: 'string', value: messageType },
      [messageType === 'event' ? ':event-type' : ':exception-type']: { type: 'string', value: type },
      ':content-type': { type: 'string', value: 'application/json' },
    },
    body: fromUtf8(JSON.stringify(payload)),
  });

describe('Bedrock Converse codec', () => {
  it('encodes system, alternating turns, images, tools and tool results', () => {
    const req: CanonicalRequest = {
      model: 'x',
      system: 'Be brief.',
      stream: true,
      maxTokens: 100,
      stop: ['END'],
      messages: [
        {
          role: 'user',
          content: [
            { type: 'text', text: 'hi' },
            { type: 'image', source: { kind: 'base64', mediaType: 'image/png', data: 'AAA' } },
          ],
        },
        { role: 'user', content: [{ type: 'text', text: 'again' }] },
        { role: 'assistant', content: [{ type: 'tool_call', id: 't1', name: 'f', arguments: '{"a":1}' }] },
        { role: 'tool', content: [{ type: 'tool_result', toolCallId: 't1', content: 'done' }] },
      ],
      tools: [{ name: 'f', parameters: { type: 'object' } }],
      toolChoice: { name: 'f' },
    };
    const up = encodeBedrockRequest(req, 'anthropic.claude-v2:1');
    expect(up.path).toBe('/model/anthropic.claude-v2%3A1/converse-stream');
    expect(up.body).toEqual({
      messages: [
        {
          role: 'user',
          content: [
            { text: 'hi' },
            { image: { format: 'png', source: { bytes: 'AAA' } } },
            { text: 'again' },
          ],
        },
        { role: 'assistant', content: [{ toolUse: { toolUseId: 't1', name: 'f', input: { a: 1 } } }] },
        {
          role: 'user',
          content: [{ toolResult: { toolUseId: 't1', content: [{ text: 'done' }], status: 'success' } }],
        },
      ],
      system: [{ text: 'Be brief.' }],
      inferenceConfig: { maxTokens: 100, stopSequences: ['END'] },
      toolConfig: {
        tools: [{ toolSpec: { name: 'f', inputSchema: { json: { type: 'object' } } } }],
        toolChoice: { tool: { name: 'f' } },
      },
    });
  });

  it('refuses linked images (Bedrock takes bytes only)', () => {
    expect(() =>
      encodeBedrockRequest(
        {
          model: 'x',
          stream: false,
          messages: [
            { role: 'user', content: [{ type: 'image', source: { kind: 'url', url: 'https://x/y.png' } }] },
          ],
        },
        'm',
      ),
    ).toThrow('inline data');
  });

  it('decodes an answer with usage (input excludes cache)', () => {
    const res = decodeBedrockResponse({
      output: {
        message: {
          role: 'assistant',
          content: [{ text: 'hello' }, { toolUse: { toolUseId: 't', name: 'f', input: { q: 1 } } }],
        },
      },
      stopReason: 'tool_use',
      usage: { inputTokens: 5, outputTokens: 7, totalTokens: 22, cacheReadInputTokens: 10 },
    });
    expect(res.content).toEqual([
      { type: 'text', text: 'hello' },
      { type: 'tool_call', id: 't', name: 'f', arguments: '{"q":1}' },
    ]);
    expect(res.stopReason).toBe('tool_use');
    expect(res.usage).toMatchObject({ inputTokens: 5, outputTokens: 7, cacheReadTokens: 10 });
  });

  it('decodes the binary event stream across arbitrary chunk boundaries', () => {
    const bytes = Buffer.concat([
      frame('messageStart', { role: 'assistant' }),
      frame('contentBlockDelta', { contentBlockIndex: 0, delta: { text: 'Hel' } }),
      frame('contentBlockDelta', { contentBlockIndex: 0, delta: { text: 'lo' } }),
      frame('messageStop', { stopReason: 'end_turn' }),
      frame('metadata', { usage: { inputTokens: 3, outputTokens: 2 } }),
    ]);
    const decoder = new BedrockStreamDecoder();
    const events = [];
    for (let i = 0; i < bytes.length; i += 7) events.push(...decoder.push(bytes.subarray(i, i + 7)));
    events.push(...decoder.end());
    expect(events.map((e) => e.type)).toEqual(['start', 'text-delta', 'text-delta', 'finish', 'usage']);
    expect(
      events
        .filter((e) => e.type === 'text-delta')
        .map((e) => (e as { text: string }).text)
        .join(''),
    ).toBe('Hello');
  });

  it('reports exceptions and cut streams as errors', () => {
    const decoder = new BedrockStreamDecoder();
    const events = decoder.push(frame('throttlingException', { message: 'slow down' }, 'exception'));
    expect(events).toEqual([
      { type: 'error', status: 429, errorType: 'throttlingException', message: 'slow down' },
    ]);
    const cut = new BedrockStreamDecoder();
    cut.push(frame('messageStart', { role: 'assistant' }));
    expect(cut.end()[0]).toMatchObject({ type: 'error', errorType: 'upstream_stream_incomplete' });
    expect(decodeBedrockError(429, '{"message":"Too many"}')).toEqual({
      type: 'ThrottlingException',
      message: 'Too many',
    });
  });
});
