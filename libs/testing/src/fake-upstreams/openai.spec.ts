import { embeddingVector, startFakeOpenAI, type FakeUpstream } from './index';
import { jsonEvents, post, readStream } from './spec-helpers';

interface ChunkChoice {
  index: number;
  delta: {
    role?: string;
    content?: string | null;
    tool_calls?: { index: number; function: { arguments?: string } }[];
  };
  finish_reason: string | null;
}
interface Chunk {
  id: string;
  object: string;
  choices: ChunkChoice[];
  usage?: unknown;
}

const AUTH = { authorization: 'Bearer sk-test' };
const USER_TEXT = 'Tell me something deterministic, please, at length.';

describe('fake OpenAI upstream', () => {
  let fake: FakeUpstream;
  const chat = (body: Record<string, unknown>, headers: Record<string, string> = AUTH): Promise<Response> =>
    post(`${fake.baseUrl}/chat/completions`, body, headers);
  const chatBody = (extra: Record<string, unknown> = {}): Record<string, unknown> => ({
    model: 'gpt-4o-mini',
    messages: [
      { role: 'system', content: 'You are terse.' },
      { role: 'user', content: USER_TEXT },
    ],
    ...extra,
  });

  beforeAll(async () => {
    fake = await startFakeOpenAI();
  });
  afterEach(() => fake.reset());
  afterAll(() => fake.close());

  it('exposes the SDK base URL under /v1', () => {
    expect(fake.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(fake.baseUrl).toBe(`${fake.url}/v1`);
  });

  it('answers a chat completion in the chat.completion format and records the request', async () => {
    const res = await chat(chatBody({ temperature: 0 }));
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('application/json');
    const expectedText = `Hello from fake-openai: ${USER_TEXT.slice(0, 40)}`;
    const body = await res.json();
    expect(body).toEqual({
      id: 'chatcmpl-fake-1',
      object: 'chat.completion',
      created: expect.any(Number),
      model: 'gpt-4o-mini',
      choices: [
        {
          index: 0,
          message: { role: 'assistant', content: expectedText, refusal: null, annotations: [] },
          logprobs: null,
          finish_reason: 'stop',
        },
      ],
      usage: {
        // ceil(chars / 4) over "You are terse.\n<user text>" and over the reply.
        prompt_tokens: Math.ceil(('You are terse.\n' + USER_TEXT).length / 4),
        completion_tokens: Math.ceil(expectedText.length / 4),
        total_tokens:
          Math.ceil(('You are terse.\n' + USER_TEXT).length / 4) + Math.ceil(expectedText.length / 4),
        prompt_tokens_details: { cached_tokens: 0, audio_tokens: 0 },
        completion_tokens_details: {
          reasoning_tokens: 0,
          audio_tokens: 0,
          accepted_prediction_tokens: 0,
          rejected_prediction_tokens: 0,
        },
      },
      service_tier: 'default',
      system_fingerprint: 'fp_fake',
    });

    expect(fake.requests).toHaveLength(1);
    const [recorded] = fake.requests;
    expect(recorded).toMatchObject({ method: 'POST', path: '/v1/chat/completions', query: {} });
    expect(recorded?.headers.authorization).toBe('Bearer sk-test');
    expect(recorded?.json).toEqual(chatBody({ temperature: 0 }));
    expect(recorded?.rawBody).toBe(JSON.stringify(chatBody({ temperature: 0 })));
  });

  it('numbers completion ids per server and restarts them on reset()', async () => {
    const first = (await (await chat(chatBody())).json()) as { id: string };
    const second = (await (await chat(chatBody())).json()) as { id: string };
    expect([first.id, second.id]).toEqual(['chatcmpl-fake-1', 'chatcmpl-fake-2']);
    fake.reset();
    const third = (await (await chat(chatBody())).json()) as { id: string };
    expect(third.id).toBe('chatcmpl-fake-1');
  });

  it('places usage overrides in the documented OpenAI fields', async () => {
    fake.setBehavior({
      replyText: 'ok',
      usage: { inputTokens: 100, outputTokens: 40, cacheReadTokens: 60, reasoningTokens: 25 },
    });
    const body = (await (await chat(chatBody())).json()) as { usage: unknown; choices: unknown[] };
    expect(body.choices[0]).toMatchObject({ message: { content: 'ok' } });
    expect(body.usage).toEqual({
      prompt_tokens: 100,
      completion_tokens: 40,
      total_tokens: 140,
      prompt_tokens_details: { cached_tokens: 60, audio_tokens: 0 },
      completion_tokens_details: {
        reasoning_tokens: 25,
        audio_tokens: 0,
        accepted_prediction_tokens: 0,
        rejected_prediction_tokens: 0,
      },
    });
  });

  it('streams chat.completion.chunk events with a final usage chunk when include_usage is set', async () => {
    fake.setBehavior({
      replyText: 'The quick brown fox jumps over the lazy dog.',
      usage: { inputTokens: 7 },
    });
    const res = await chat(chatBody({ stream: true, stream_options: { include_usage: true } }));
    expect(res.headers.get('content-type')).toContain('text/event-stream');
    const read = await readStream(res);
    expect(read.error).toBeUndefined();
    expect(read.events.every((e) => e.event === undefined)).toBe(true);
    expect(read.events.at(-1)?.data).toBe('[DONE]');

    const chunks = jsonEvents(read.events) as unknown as Chunk[];
    // role chunk + 16 content chunks + finish chunk + usage chunk
    expect(chunks).toHaveLength(19);
    expect(new Set(chunks.map((c) => c.id))).toEqual(new Set(['chatcmpl-fake-1']));
    expect(chunks.every((c) => c.object === 'chat.completion.chunk')).toBe(true);
    expect(chunks[0]?.choices[0]?.delta).toEqual({ role: 'assistant', content: '', refusal: null });
    const content = chunks
      .slice(1, 17)
      .map((c) => c.choices[0]?.delta.content ?? '')
      .join('');
    expect(content).toBe('The quick brown fox jumps over the lazy dog.');
    expect(chunks[17]?.choices).toEqual([{ index: 0, delta: {}, logprobs: null, finish_reason: 'stop' }]);
    // Every chunk but the last carries usage: null; the last has empty choices and the totals.
    expect(chunks.slice(0, 18).every((c) => c.usage === null)).toBe(true);
    expect(chunks[18]).toMatchObject({
      choices: [],
      usage: { prompt_tokens: 7, completion_tokens: 11, total_tokens: 18 },
    });
  });

  it('sends no usage at all in a stream without include_usage', async () => {
    fake.setBehavior({ streamChunks: 3 });
    const read = await readStream(await chat(chatBody({ stream: true })));
    const chunks = jsonEvents(read.events) as unknown as Chunk[];
    expect(chunks).toHaveLength(5); // role + 3 content + finish
    expect(chunks.every((c) => !('usage' in c))).toBe(true);
    expect(chunks.every((c) => c.choices.length === 1)).toBe(true);
  });

  it('omitUsage drops usage from JSON answers and the usage chunk from streams', async () => {
    fake.setBehavior({ omitUsage: true, streamChunks: 2 });
    const json = (await (await chat(chatBody())).json()) as Record<string, unknown>;
    expect(json).not.toHaveProperty('usage');
    const read = await readStream(
      await chat(chatBody({ stream: true, stream_options: { include_usage: true } })),
    );
    const chunks = jsonEvents(read.events) as unknown as Chunk[];
    expect(chunks).toHaveLength(4);
    expect(chunks.every((c) => !('usage' in c) && c.choices.length === 1)).toBe(true);
    expect(read.events.at(-1)?.data).toBe('[DONE]');
  });

  it('answers with tool_calls, in JSON and as streamed deltas', async () => {
    const toolCall = { name: 'get_weather', arguments: { city: 'Paris', unit: 'celsius' } };
    fake.setBehavior({ toolCall, streamChunks: 4 });
    const json = (await (await chat(chatBody())).json()) as { choices: unknown[] };
    expect(json.choices[0]).toEqual({
      index: 0,
      message: {
        role: 'assistant',
        content: null,
        refusal: null,
        annotations: [],
        tool_calls: [
          {
            id: 'call_fake_1',
            type: 'function',
            function: { name: 'get_weather', arguments: JSON.stringify(toolCall.arguments) },
          },
        ],
      },
      logprobs: null,
      finish_reason: 'tool_calls',
    });

    const read = await readStream(await chat(chatBody({ stream: true })));
    const chunks = jsonEvents(read.events) as unknown as Chunk[];
    expect(chunks[0]?.choices[0]?.delta).toEqual({
      role: 'assistant',
      content: null,
      tool_calls: [
        { index: 0, id: 'call_fake_2', type: 'function', function: { name: 'get_weather', arguments: '' } },
      ],
      refusal: null,
    });
    const argumentDeltas = chunks
      .slice(1, -1)
      .map((c) => c.choices[0]?.delta.tool_calls?.[0]?.function.arguments);
    expect(argumentDeltas).toHaveLength(4);
    expect(JSON.parse(argumentDeltas.join(''))).toEqual(toolCall.arguments);
    expect(chunks.at(-1)?.choices[0]?.finish_reason).toBe('tool_calls');
  });

  it('returns float embeddings, and the same numbers as base64 float32 when asked', async () => {
    const floats = await post(
      `${fake.baseUrl}/embeddings`,
      { model: 'text-embedding-3-small', input: ['a', 'b'] },
      AUTH,
    );
    expect(floats.status).toBe(200);
    const body = (await floats.json()) as { data: { embedding: number[] }[] };
    expect(body).toEqual({
      object: 'list',
      data: [
        { object: 'embedding', index: 0, embedding: embeddingVector('a', 8) },
        { object: 'embedding', index: 1, embedding: embeddingVector('b', 8) },
      ],
      model: 'text-embedding-3-small',
      usage: { prompt_tokens: 2, total_tokens: 2 },
    });
    expect(body.data[0]?.embedding).not.toEqual(body.data[1]?.embedding);
    const norm = Math.hypot(...(body.data[0]?.embedding ?? []));
    expect(norm).toBeCloseTo(1, 5);

    const b64 = await post(
      `${fake.baseUrl}/embeddings`,
      { model: 'text-embedding-3-small', input: 'a', encoding_format: 'base64', dimensions: 4 },
      AUTH,
    );
    const encoded = ((await b64.json()) as { data: { embedding: string }[] }).data[0]?.embedding ?? '';
    const bytes = Buffer.from(encoded, 'base64');
    const decoded = Array.from({ length: bytes.length / 4 }, (_, i) => bytes.readFloatLE(i * 4));
    expect(decoded).toEqual(embeddingVector('a', 4));
  });

  it('lists models', async () => {
    const res = await fetch(`${fake.baseUrl}/models`, { headers: AUTH });
    const body = (await res.json()) as { object: string; data: { id: string; object: string }[] };
    expect(body.object).toBe('list');
    expect(body.data.map((m) => m.id)).toContain('gpt-4o-mini');
    expect(body.data.every((m) => m.object === 'model')).toBe(true);
  });

  it('rejects a request without a Bearer key with OpenAI’s 401, and still records it', async () => {
    const res = await chat(chatBody(), {});
    expect(res.status).toBe(401);
    expect(await res.json()).toEqual({
      error: {
        message: expect.stringContaining("You didn't provide an API key."),
        type: 'invalid_request_error',
        param: null,
        code: null,
      },
    });
    expect(fake.requests).toHaveLength(1);
    expect(fake.requests[0]?.headers.authorization).toBeUndefined();
  });

  it('answers unknown paths and invalid bodies in the OpenAI error format', async () => {
    const missing = await post(`${fake.baseUrl}/assistants`, {}, AUTH);
    expect(missing.status).toBe(404);
    expect(await missing.json()).toEqual({
      error: {
        message: 'Invalid URL (POST /v1/assistants)',
        type: 'invalid_request_error',
        param: null,
        code: null,
      },
    });
    const invalid = await chat({ model: 'gpt-4o-mini' });
    expect(invalid.status).toBe(400);
    expect(await invalid.json()).toMatchObject({
      error: { type: 'invalid_request_error', code: 'missing_required_parameter' },
    });
    expect(fake.requests.map((r) => r.path)).toEqual(['/v1/assistants', '/v1/chat/completions']);
  });
});
