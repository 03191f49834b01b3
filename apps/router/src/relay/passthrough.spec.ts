import { addCostToResponse, RawSseSplitter, relayPassThroughEvent } from './passthrough';

describe('RawSseSplitter', () => {
  it('cuts whole events without changing a byte, whatever the chunking and line endings', () => {
    const stream = 'event: a\ndata: {"x":1}\n\ndata: {"y":2}\r\n\r\n: keep-alive\n\ndata: tail';
    for (const size of [1, 2, 3, 7, stream.length]) {
      const splitter = new RawSseSplitter();
      const events = [];
      for (let i = 0; i < stream.length; i += size) events.push(...splitter.push(stream.slice(i, i + size)));
      events.push(...splitter.end());
      expect(events.map((e) => e.text).join('')).toBe(stream);
      expect(events.map((e) => [e.event, e.data])).toEqual([
        ['a', '{"x":1}'],
        ['', '{"y":2}'],
        ['', ''],
        ['', 'tail'],
      ]);
    }
  });
});

describe('relayPassThroughEvent', () => {
  const splitOne = (text: string) => new RawSseSplitter().push(text)[0];

  it('OpenAI: adds the cost to the usage chunk, drops it when the client did not ask, passes the rest', () => {
    const usage = splitOne('data: {"choices":[],"usage":{"prompt_tokens":3}}\n\n');
    expect(relayPassThroughEvent('openai', usage, { clientWantsUsage: true, costUsd: () => 0.25 })).toBe(
      'data: {"choices":[],"usage":{"prompt_tokens":3,"cost":0.25}}\n\n',
    );
    expect(relayPassThroughEvent('openai', usage, { clientWantsUsage: false, costUsd: () => 0.25 })).toBe('');
    const delta = splitOne('data: {"choices":[{"delta":{"content":"x"}}],"usage":null}\n\n');
    expect(relayPassThroughEvent('openai', delta, { clientWantsUsage: true, costUsd: () => 1 })).toBe(
      delta.text,
    );
  });

  it('Anthropic: costs message_delta only', () => {
    const md = splitOne(
      'event: message_delta\ndata: {"type":"message_delta","usage":{"output_tokens":9}}\n\n',
    );
    expect(relayPassThroughEvent('anthropic', md, { clientWantsUsage: false, costUsd: () => 0.5 })).toBe(
      'event: message_delta\ndata: {"type":"message_delta","usage":{"output_tokens":9,"cost":0.5}}\n\n',
    );
    const ping = splitOne('event: ping\ndata: {"type":"ping"}\n\n');
    expect(relayPassThroughEvent('anthropic', ping, { clientWantsUsage: false, costUsd: () => 0.5 })).toBe(
      ping.text,
    );
  });

  it('Gemini: costs the final chunk (finishReason + usageMetadata) only', () => {
    const mid = splitOne(
      'data: {"candidates":[{"content":{}}],"usageMetadata":{"promptTokenCount":2}}\r\n\r\n',
    );
    expect(relayPassThroughEvent('gemini', mid, { clientWantsUsage: false, costUsd: () => 1 })).toBe(
      mid.text,
    );
    const last = splitOne(
      'data: {"candidates":[{"finishReason":"STOP"}],"usageMetadata":{"totalTokenCount":5}}\r\n\r\n',
    );
    expect(relayPassThroughEvent('gemini', last, { clientWantsUsage: false, costUsd: () => 1 })).toBe(
      'data: {"candidates":[{"finishReason":"STOP"}],"usageMetadata":{"totalTokenCount":5,"cost":1}}\n\n',
    );
  });

  it('adds the cost to JSON answers', () => {
    const openai = { usage: { prompt_tokens: 1 } };
    addCostToResponse('openai', openai, 0.1);
    expect(openai.usage).toEqual({ prompt_tokens: 1, cost: 0.1 });
    const gemini = { usageMetadata: {} };
    addCostToResponse('gemini', gemini, 0.2);
    expect(gemini.usageMetadata).toEqual({ cost: 0.2 });
  });
});
