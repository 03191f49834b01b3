// The behavior switches, exercised against every provider through real HTTP.
import { startFakeOpenAI, startFakeUpstream, type FakeProvider, type FakeUpstream } from './index';
import { post, readStream } from './spec-helpers';

interface ProviderCase {
  /** A generation request in the provider's own format. */
  call: (fake: FakeUpstream, stream: boolean, init?: RequestInit) => Promise<Response>;
  /** Pulls the provider's error type out of an error body. */
  errorType: (body: unknown) => unknown;
}

const user = 'Say hello to the test suite.';

/** The SSE providers; Bedrock (binary event stream) and Replicate (two-step stream) have their own specs. */
type SseProvider = Extract<FakeProvider, 'openai' | 'anthropic' | 'gemini'>;

const CASES: Record<SseProvider, ProviderCase> = {
  openai: {
    call: (fake, stream, init) =>
      fetch(`${fake.baseUrl}/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: 'Bearer sk-test' },
        body: JSON.stringify({ model: 'gpt-4o-mini', stream, messages: [{ role: 'user', content: user }] }),
        ...init,
      }),
    errorType: (body) => (body as { error: { type: string } }).error.type,
  },
  anthropic: {
    call: (fake, stream, init) =>
      fetch(`${fake.baseUrl}/v1/messages`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-api-key': 'k', 'anthropic-version': '2023-06-01' },
        body: JSON.stringify({
          model: 'claude-haiku-4-5',
          max_tokens: 64,
          stream,
          messages: [{ role: 'user', content: user }],
        }),
        ...init,
      }),
    errorType: (body) => (body as { type: string; error: { type: string } }).error.type,
  },
  gemini: {
    call: (fake, stream, init) =>
      fetch(
        `${fake.baseUrl}/v1beta/models/gemini-2.5-flash:${stream ? 'streamGenerateContent?alt=sse' : 'generateContent'}`,
        {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'x-goog-api-key': 'k' },
          body: JSON.stringify({ contents: [{ role: 'user', parts: [{ text: user }] }] }),
          ...init,
        },
      ),
    errorType: (body) => (body as { error: { status: string } }).error.status,
  },
};

const PROVIDERS = Object.keys(CASES) as SseProvider[];

describe.each(PROVIDERS)('%s fake: behavior switches', (provider) => {
  const { call, errorType } = CASES[provider];
  let fake: FakeUpstream;

  beforeAll(async () => {
    fake = await startFakeUpstream(provider);
  });
  afterEach(() => fake.reset());
  afterAll(() => fake.close());

  it('latencyMs delays the response headers', async () => {
    fake.setBehavior({ latencyMs: 80 });
    const startedAt = Date.now();
    const res = await call(fake, false);
    expect(Date.now() - startedAt).toBeGreaterThanOrEqual(80);
    expect(res.status).toBe(200);
  });

  it('error + failTimes fails the first N requests (with Retry-After), then answers normally', async () => {
    fake.setBehavior({ error: { status: 503, retryAfterSeconds: 2 }, failTimes: 2 });
    const statuses: number[] = [];
    for (let i = 0; i < 3; i += 1) {
      const res = await call(fake, false);
      statuses.push(res.status);
      if (res.status === 503) {
        expect(res.headers.get('retry-after')).toBe('2');
        expect(errorType(await res.json())).toEqual(expect.any(String));
      } else {
        await res.arrayBuffer();
      }
    }
    expect(statuses).toEqual([503, 503, 200]);
    expect(fake.requests).toHaveLength(3); // failing requests are recorded too
  });

  it('error without failTimes fails every request, with the given type and message', async () => {
    fake.setBehavior({ error: { status: 429, type: 'custom_type', message: 'slow down' } });
    for (let i = 0; i < 2; i += 1) {
      const res = await call(fake, i === 1);
      expect(res.status).toBe(429);
      expect(res.headers.get('retry-after')).toBeNull();
      const body = await res.json();
      expect(errorType(body)).toBe('custom_type');
      expect(JSON.stringify(body)).toContain('slow down');
    }
  });

  it('hang accepts the request and never answers', async () => {
    fake.setBehavior({ hang: true });
    await expect(call(fake, false, { signal: AbortSignal.timeout(100) })).rejects.toMatchObject({
      name: 'TimeoutError',
    });
    expect(fake.requests).toHaveLength(1);
    // The server is still healthy afterwards.
    fake.setBehavior({});
    expect((await call(fake, false)).status).toBe(200);
  });

  it('garbage answers 200 with a body that is not JSON', async () => {
    fake.setBehavior({ garbage: true });
    const res = await call(fake, false);
    expect(res.status).toBe(200);
    const text = await res.text();
    expect(() => JSON.parse(text) as unknown).toThrow();

    const stream = await readStream(await call(fake, true));
    expect(stream.status).toBe(200);
    expect(stream.events).toHaveLength(1);
    expect(() => JSON.parse(stream.events[0]?.data ?? '') as unknown).toThrow();
  });

  it('cutAfterChunks destroys the socket after exactly N events', async () => {
    fake.setBehavior({ cutAfterChunks: 2, streamChunks: 8 });
    const read = await readStream(await call(fake, true));
    expect(read.status).toBe(200);
    expect(read.error).toBeDefined();
    expect(read.events).toHaveLength(2);
    for (const event of read.events) expect(() => JSON.parse(event.data) as unknown).not.toThrow();
  });

  it('cutAfterChunks: 0 resets the connection before any response', async () => {
    fake.setBehavior({ cutAfterChunks: 0 });
    await expect(call(fake, true)).rejects.toThrow();
    expect(fake.requests).toHaveLength(1);
  });

  it('chunkDelayMs spaces the SSE events', async () => {
    fake.setBehavior({ chunkDelayMs: 30, streamChunks: 2 });
    const startedAt = Date.now();
    const read = await readStream(await call(fake, true));
    expect(read.error).toBeUndefined();
    expect(Date.now() - startedAt).toBeGreaterThanOrEqual(30 * (read.events.length - 1));
  });

  it('survives a client that disconnects mid-stream', async () => {
    fake.setBehavior({ chunkDelayMs: 20, streamChunks: 40 });
    const controller = new AbortController();
    const res = await call(fake, true, { signal: controller.signal });
    const reader = res.body?.getReader();
    await reader?.read();
    controller.abort();
    await expect(reader?.read()).rejects.toThrow();
    fake.setBehavior({});
    expect((await call(fake, true)).status).toBe(200);
  });
});

describe('fake upstream lifecycle', () => {
  it('takes an initial behavior, replaces it on setBehavior and clears it on reset', async () => {
    const fake = await startFakeOpenAI({ replyText: 'first' });
    try {
      const ask = async (): Promise<unknown> =>
        ((await (await CASES.openai.call(fake, false)).json()) as { choices: { message: unknown }[] })
          .choices[0]?.message;
      expect(await ask()).toMatchObject({ content: 'first' });
      fake.setBehavior({ usage: { inputTokens: 1 } }); // replaces: replyText is gone
      expect(await ask()).toMatchObject({ content: `Hello from fake-openai: ${user}` });
      const held = fake.requests;
      fake.reset();
      expect(held).toHaveLength(0); // same array, emptied
      expect(await ask()).toMatchObject({ content: `Hello from fake-openai: ${user}` });
      expect(fake.requests).toHaveLength(1);
    } finally {
      await fake.close();
    }
  });

  it('close() ends hanging requests and idle keep-alive sockets, then refuses connections', async () => {
    const fake = await startFakeOpenAI();
    expect((await CASES.openai.call(fake, false)).status).toBe(200); // leaves an idle keep-alive socket
    fake.setBehavior({ hang: true });
    const hanging = CASES.openai.call(fake, false);
    await waitFor(() => fake.requests.length === 2);
    await fake.close();
    await expect(hanging).rejects.toThrow();
    await expect(post(`${fake.baseUrl}/chat/completions`, {})).rejects.toThrow();
  });
});

async function waitFor(condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise((resolve) => setTimeout(resolve, 5));
}
