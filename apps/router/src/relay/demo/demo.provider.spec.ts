import { feed } from '../__fixtures__/provider-payloads';
import type { CanonicalRequest, CanonicalStreamEvent } from '../canonical';
import { wireAdapters } from '../index';
import { DemoProvider } from './demo.provider';

const demo = new DemoProvider();

async function collect(req: CanonicalRequest): Promise<CanonicalStreamEvent[]> {
  const out: CanonicalStreamEvent[] = [];
  for await (const event of demo.stream(req)) out.push(event);
  return out;
}

const hello: CanonicalRequest = {
  model: 'demo-chat',
  system: 'Be kind.',
  stream: false,
  messages: [
    { role: 'user', content: [{ type: 'text', text: 'first' }] },
    { role: 'assistant', content: [{ type: 'text', text: 'ok' }] },
    { role: 'user', content: [{ type: 'text', text: 'Hi there' }] },
  ],
};

describe('DemoProvider', () => {
  it('answers deterministically, echoing the last user text, with usage at ~4 characters per token', () => {
    const res = demo.complete(hello);
    const text = "Hello from ToRouter's demo channel. You said: Hi there";
    expect(res).toEqual({
      id: expect.stringMatching(/^demo-[0-9a-f]{8}$/),
      model: 'demo-chat',
      content: [{ type: 'text', text }],
      stopReason: 'end_turn',
      usage: {
        inputTokens: Math.ceil('Be kind.\nfirst\nok\nHi there'.length / 4),
        outputTokens: Math.ceil(text.length / 4),
        cacheReadTokens: 0,
        cacheWrite5mTokens: 0,
        cacheWrite1hTokens: 0,
        reasoningTokens: 0,
      },
    });
    expect(demo.complete(structuredClone(hello))).toEqual(res);
    expect(demo.complete({ ...hello, model: 'other' }).id).not.toBe(res.id);
  });

  it('truncates the echo to 200 characters and says so when there is nothing to echo', () => {
    const long = demo.complete({
      ...hello,
      messages: [{ role: 'user', content: [{ type: 'text', text: 'x'.repeat(500) }] }],
    });
    expect(long.content[0]).toEqual({
      type: 'text',
      text: `Hello from ToRouter's demo channel. You said: ${'x'.repeat(200)}`,
    });
    const empty = demo.complete({ ...hello, messages: [{ role: 'user', content: [] }] });
    expect(empty.content[0]).toMatchObject({ text: expect.stringContaining('You said: (nothing)') });
  });

  it('stops at max_tokens like a provider would', () => {
    const res = demo.complete({ ...hello, maxTokens: 3 });
    expect(res.content).toEqual([{ type: 'text', text: 'Hello from T' }]);
    expect(res.stopReason).toBe('max_tokens');
    expect(res.usage.outputTokens).toBe(3);
  });

  it('calls the forced tool with arguments that satisfy its required properties', () => {
    const res = demo.complete({
      ...hello,
      tools: [
        { name: 'other' },
        {
          name: 'book',
          parameters: {
            type: 'object',
            properties: {
              city: { type: 'string' },
              nights: { type: 'integer' },
              breakfast: { type: 'boolean' },
            },
            required: ['city', 'nights'],
          },
        },
      ],
      toolChoice: { name: 'book' },
    });
    expect(res.content).toEqual([
      {
        type: 'tool_call',
        id: expect.stringMatching(/^call_/),
        name: 'book',
        arguments: '{"city":"demo","nights":0}',
      },
    ]);
    expect(res.stopReason).toBe('tool_use');
    expect(demo.complete({ ...hello, tools: [{ name: 'other' }], toolChoice: 'auto' }).stopReason).toBe(
      'end_turn',
    );
  });

  it('reasons when asked, counting reasoning inside the output tokens', () => {
    const res = demo.complete({ ...hello, reasoning: { enabled: true } });
    expect(res.content[0]).toEqual({
      type: 'reasoning',
      text: 'The user said "Hi there". Greeting them and repeating it is the answer.',
    });
    expect(res.usage.reasoningTokens).toBe(Math.ceil((res.content[0] as { text: string }).text.length / 4));
    expect(res.usage.outputTokens).toBe(
      res.usage.reasoningTokens + Math.ceil((res.content[1] as { text: string }).text.length / 4),
    );
  });

  it('streams the same answer: start, reasoning and ~8 text deltas, tool call, usage, finish', async () => {
    const req: CanonicalRequest = { ...hello, stream: true, reasoning: { enabled: true } };
    const events = await collect(req);
    const res = demo.complete(req);
    expect(events[0]).toEqual({ type: 'start', id: res.id, model: 'demo-chat' });
    const text = events.filter((e) => e.type === 'text-delta');
    expect(text).toHaveLength(8);
    expect(text.map((e) => e.text).join('')).toBe((res.content[1] as { text: string }).text);
    expect(
      events
        .filter((e) => e.type === 'reasoning-delta')
        .map((e) => e.text)
        .join(''),
    ).toBe((res.content[0] as { text: string }).text);
    expect(events.slice(-2)).toEqual([
      { type: 'usage', usage: res.usage },
      { type: 'finish', stopReason: 'end_turn' },
    ]);
    const tool = await collect({
      ...req,
      reasoning: undefined,
      tools: [{ name: 'f' }],
      toolChoice: 'required',
    });
    expect(tool.filter((e) => e.type.startsWith('tool-call'))).toEqual([
      { type: 'tool-call-start', index: 0, id: expect.stringMatching(/^call_/), name: 'f' },
      { type: 'tool-call-delta', index: 0, argumentsDelta: '{' },
      { type: 'tool-call-delta', index: 0, argumentsDelta: '}' },
    ]);
  });

  it('plays through every client format’s stream encoder, and that format’s decoder reads it back', async () => {
    const res = demo.complete(hello);
    for (const adapter of Object.values(wireAdapters)) {
      const enc = adapter.createStreamEncoder(
        { ...hello, stream: true, streamUsage: true },
        { id: 'x', created: 1 },
      );
      let sse = '';
      for await (const event of demo.stream(hello)) sse += enc.encode(event);
      sse += enc.end();
      const back = feed(adapter.createUpstreamStreamDecoder(), sse, 10);
      expect(back.flatMap((e) => (e.type === 'text-delta' ? [e.text] : [])).join('')).toBe(
        (res.content[0] as { text: string }).text,
      );
      expect(back.filter((e) => e.type === 'usage').at(-1)).toEqual({ type: 'usage', usage: res.usage });
      expect(back).toContainEqual({ type: 'finish', stopReason: 'end_turn' });
      expect(back.some((e) => e.type === 'error')).toBe(false);
    }
  });
});
