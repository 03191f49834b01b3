import {
  startFakeUpstream,
  type FakeUpstream,
  type RecordedRequest,
} from '../libs/testing/src/fake-upstreams';
import { adminClient, creditAccount } from './router-test-helpers';
import { startTestStack, type TestStack } from './support/test-stack';

/**
 * Same format on both sides: the router relays the upstream's stream byte for byte. The only event it
 * touches is the one carrying the final usage, which gains `cost`. Proven by replaying the exact request
 * the router sent directly against the same (reset, deterministic) fake and comparing the bodies.
 */
describe('same-format streams are relayed byte for byte', () => {
  let stack: TestStack;
  let fakes: Record<'openai' | 'anthropic' | 'gemini', FakeUpstream>;
  let key: string;

  beforeAll(async () => {
    const [s, openai, anthropic, gemini] = await Promise.all([
      startTestStack(),
      startFakeUpstream('openai'),
      startFakeUpstream('anthropic'),
      startFakeUpstream('gemini'),
    ]);
    stack = s;
    fakes = { openai, anthropic, gemini };
    key = stack.demo!.apiKey!.key;
    const admin = adminClient(stack);
    await creditAccount(stack, stack.demo!.account.id, 100);
    await admin.disableAllChannels();
    await admin.createChannel({
      name: 'o',
      type: 'openai',
      baseUrl: openai.baseUrl,
      credentials: { apiKey: 'sk-o' },
      models: ['gpt-5'],
    });
    await admin.createChannel({
      name: 'a',
      type: 'anthropic',
      baseUrl: anthropic.baseUrl,
      credentials: { apiKey: 'sk-a' },
      models: ['claude-opus-4-7'],
    });
    await admin.createChannel({
      name: 'g',
      type: 'gemini',
      baseUrl: gemini.baseUrl,
      credentials: { apiKey: 'sk-g' },
      models: ['gemini-2.5-pro'],
    });
  });

  afterAll(async () => {
    await Promise.all([stack?.close(), ...Object.values(fakes ?? {}).map((f) => f.close())]);
  });

  /** Replays a recorded request straight at the fake (after a reset, so ids start over). */
  async function replay(fake: FakeUpstream, recorded: RecordedRequest): Promise<string> {
    fake.reset();
    fake.setBehavior({ streamChunks: 5 });
    const query = new URLSearchParams(recorded.query).toString();
    const headers: Record<string, string> = {};
    for (const name of [
      'content-type',
      'authorization',
      'x-api-key',
      'anthropic-version',
      'x-goog-api-key',
    ]) {
      const value = recorded.headers[name];
      if (typeof value === 'string') headers[name] = value;
    }
    const res = await fetch(`${fake.url}${recorded.path}${query ? `?${query}` : ''}`, {
      method: recorded.method,
      headers,
      body: recorded.rawBody,
    });
    return res.text();
  }

  /** Splits on blank lines, keeping each event's own bytes. */
  const rawEvents = (text: string) => text.match(/[\s\S]*?(\r\n\r\n|\n\n|$)/g)!.filter(Boolean);
  const created = (s: string) => s.replace(/"created":\d+/g, '"created":0');

  async function compare(
    provider: keyof typeof fakes,
    path: string,
    body: unknown,
    headers: Record<string, string>,
  ) {
    const fake = fakes[provider];
    fake.reset();
    fake.setBehavior({ streamChunks: 5 });
    const viaRouter = await (
      await fetch(`${stack.url}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body: JSON.stringify(body),
      })
    ).text();
    const recorded = fake.requests[0];
    const direct = await replay(fake, recorded);
    const routed = rawEvents(created(viaRouter));
    const original = rawEvents(created(direct));
    expect(routed).toHaveLength(original.length);
    let costed = 0;
    routed.forEach((event, i) => {
      if (event.includes('"cost":')) {
        costed += 1;
        expect(event.replace(/,"cost":[\d.e-]+/, '').replace(/\n/g, '')).toBe(
          original[i].replace(/\r?\n/g, ''),
        );
      } else {
        expect(event).toBe(original[i]); // untouched, byte for byte
      }
    });
    expect(costed).toBe(1);
  }

  it('OpenAI (with include_usage)', async () => {
    await compare(
      'openai',
      '/v1/chat/completions',
      {
        model: 'gpt-5',
        stream: true,
        stream_options: { include_usage: true },
        messages: [{ role: 'user', content: 'bytes' }],
      },
      { authorization: `Bearer ${key}` },
    );
  });

  it('Anthropic', async () => {
    await compare(
      'anthropic',
      '/v1/messages',
      {
        model: 'claude-opus-4-7',
        max_tokens: 50,
        stream: true,
        messages: [{ role: 'user', content: 'bytes' }],
      },
      { 'x-api-key': key, 'anthropic-version': '2023-06-01' },
    );
  });

  it('Gemini (CRLF framing kept)', async () => {
    await compare(
      'gemini',
      '/v1beta/models/gemini-2.5-pro:streamGenerateContent?alt=sse',
      { contents: [{ role: 'user', parts: [{ text: 'bytes' }] }] },
      { 'x-goog-api-key': key },
    );
  });
});
