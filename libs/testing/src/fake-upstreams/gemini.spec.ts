import { startFakeGemini, type FakeUpstream } from './index';
import { jsonEvents, post, readStream } from './spec-helpers';

const KEY = { 'x-goog-api-key': 'AIza-test' };
const USER_TEXT = 'What is the capital of France? Answer in one word.';

interface Candidate {
  content: { role: string; parts: { text?: string; functionCall?: unknown }[] };
  finishReason?: string;
}
interface GenerateContentResponse {
  candidates: Candidate[];
  usageMetadata?: Record<string, unknown>;
  modelVersion: string;
  responseId: string;
}

describe('fake Gemini upstream', () => {
  let fake: FakeUpstream;
  const model = (method: string, query = ''): string =>
    `${fake.baseUrl}/v1beta/models/gemini-2.5-flash:${method}${query}`;
  const body = {
    systemInstruction: { parts: [{ text: 'Be terse.' }] },
    contents: [{ role: 'user', parts: [{ text: USER_TEXT }] }],
    generationConfig: { temperature: 0 },
  };

  beforeAll(async () => {
    fake = await startFakeGemini();
  });
  afterEach(() => fake.reset());
  afterAll(() => fake.close());

  it('answers generateContent with candidates and usageMetadata', async () => {
    const res = await post(model('generateContent'), body, KEY);
    expect(res.status).toBe(200);
    const promptTokens = Math.ceil(('Be terse.\n' + USER_TEXT).length / 4);
    const text = `Hello from fake-gemini: ${USER_TEXT.slice(0, 40)}`;
    expect(await res.json()).toEqual({
      candidates: [{ content: { parts: [{ text }], role: 'model' }, finishReason: 'STOP', index: 0 }],
      usageMetadata: {
        promptTokenCount: promptTokens,
        candidatesTokenCount: Math.ceil(text.length / 4),
        totalTokenCount: promptTokens + Math.ceil(text.length / 4),
        promptTokensDetails: [{ modality: 'TEXT', tokenCount: promptTokens }],
        candidatesTokensDetails: [{ modality: 'TEXT', tokenCount: Math.ceil(text.length / 4) }],
      },
      modelVersion: 'gemini-2.5-flash',
      responseId: 'fake-response-1',
    });
    expect(fake.requests[0]).toMatchObject({
      method: 'POST',
      path: '/v1beta/models/gemini-2.5-flash:generateContent',
      json: body,
    });
  });

  it('reports thinking and cached tokens in their own fields, total = prompt + candidates + thoughts', async () => {
    fake.setBehavior({
      usage: { inputTokens: 1000, outputTokens: 50, reasoningTokens: 200, cacheReadTokens: 600 },
    });
    const json = (await (await post(model('generateContent'), body, KEY)).json()) as GenerateContentResponse;
    expect(json.usageMetadata).toMatchObject({
      promptTokenCount: 1000,
      candidatesTokenCount: 50,
      thoughtsTokenCount: 200,
      cachedContentTokenCount: 600,
      totalTokenCount: 1250,
    });
  });

  it('streams GenerateContentResponse events over CRLF-framed SSE with alt=sse', async () => {
    fake.setBehavior({
      replyText: 'Paris, of course.',
      streamChunks: 4,
      usage: { inputTokens: 11, outputTokens: 4 },
    });
    const res = await post(model('streamGenerateContent', '?alt=sse'), body, KEY);
    expect(res.headers.get('content-type')).toContain('text/event-stream');
    const read = await readStream(res);
    expect(read.error).toBeUndefined();
    expect(read.text.startsWith('data: {')).toBe(true);
    expect(read.text.endsWith('}\r\n\r\n')).toBe(true);
    expect(read.text.split('\r\n\r\n').filter(Boolean)).toHaveLength(4);
    expect(read.events.every((e) => e.event === undefined)).toBe(true);

    const chunks = jsonEvents(read.events) as unknown as GenerateContentResponse[];
    expect(chunks.map((c) => c.candidates[0]?.content.parts[0]?.text).join('')).toBe('Paris, of course.');
    expect(chunks.map((c) => c.candidates[0]?.finishReason)).toEqual([
      undefined,
      undefined,
      undefined,
      'STOP',
    ]);
    expect(
      chunks.every((c) => c.responseId === 'fake-response-1' && c.modelVersion === 'gemini-2.5-flash'),
    ).toBe(true);
    // Interim chunks carry prompt-only usage; only the last one has the final counts.
    expect(chunks[0]?.usageMetadata).toEqual({
      promptTokenCount: 11,
      totalTokenCount: 11,
      promptTokensDetails: [{ modality: 'TEXT', tokenCount: 11 }],
    });
    expect(chunks[3]?.usageMetadata).toMatchObject({
      promptTokenCount: 11,
      candidatesTokenCount: 4,
      totalTokenCount: 15,
    });
    expect(fake.requests[0]?.query).toEqual({ alt: 'sse' });
  });

  it('streams a JSON array when alt=sse is absent', async () => {
    fake.setBehavior({ streamChunks: 2 });
    const res = await post(model('streamGenerateContent'), body, KEY);
    expect(res.headers.get('content-type')).toContain('application/json');
    const chunks = (await res.json()) as GenerateContentResponse[];
    expect(chunks).toHaveLength(2);
    expect(chunks[1]?.candidates[0]?.finishReason).toBe('STOP');
  });

  it('answers a functionCall part, streamed whole in one event', async () => {
    const toolCall = { name: 'find_flights', arguments: { from: 'OSL', to: 'CDG' } };
    fake.setBehavior({ toolCall });
    const json = (await (await post(model('generateContent'), body, KEY)).json()) as GenerateContentResponse;
    expect(json.candidates[0]?.content.parts).toEqual([
      { functionCall: { name: 'find_flights', args: toolCall.arguments } },
    ]);
    expect(json.candidates[0]?.finishReason).toBe('STOP');

    const read = await readStream(await post(model('streamGenerateContent', '?alt=sse'), body, KEY));
    const chunks = jsonEvents(read.events) as unknown as GenerateContentResponse[];
    expect(chunks).toHaveLength(1);
    expect(chunks[0]?.candidates[0]?.content.parts[0]?.functionCall).toEqual({
      name: 'find_flights',
      args: toolCall.arguments,
    });
  });

  it('omitUsage drops usageMetadata everywhere', async () => {
    fake.setBehavior({ omitUsage: true, streamChunks: 3 });
    expect(await (await post(model('generateContent'), body, KEY)).json()).not.toHaveProperty(
      'usageMetadata',
    );
    const read = await readStream(await post(model('streamGenerateContent', '?alt=sse'), body, KEY));
    const chunks = jsonEvents(read.events);
    expect(chunks).toHaveLength(3);
    expect(chunks.every((c) => !('usageMetadata' in c))).toBe(true);
  });

  it('counts tokens for contents or a whole generateContentRequest', async () => {
    const direct = await post(model('countTokens'), { contents: body.contents }, KEY);
    const expected = Math.ceil(USER_TEXT.length / 4);
    expect(await direct.json()).toEqual({
      totalTokens: expected,
      promptTokensDetails: [{ modality: 'TEXT', tokenCount: expected }],
    });
    const wrapped = await post(
      model('countTokens'),
      { generateContentRequest: { ...body, model: 'models/x' } },
      KEY,
    );
    expect(await wrapped.json()).toMatchObject({
      totalTokens: Math.ceil(('Be terse.\n' + USER_TEXT).length / 4),
    });
  });

  it('lists models', async () => {
    const res = await fetch(`${fake.baseUrl}/v1beta/models`, { headers: KEY });
    const json = (await res.json()) as { models: { name: string; supportedGenerationMethods: string[] }[] };
    expect(json.models.map((m) => m.name)).toContain('models/gemini-2.5-flash');
    expect(json.models[0]?.supportedGenerationMethods).toContain('generateContent');
  });

  it('accepts the key as ?key= and refuses keyless calls with 403 PERMISSION_DENIED', async () => {
    const viaQuery = await post(model('generateContent', '?key=AIza-q'), body);
    expect(viaQuery.status).toBe(200);
    expect(fake.requests[0]?.query).toEqual({ key: 'AIza-q' });

    const keyless = await post(model('generateContent'), body);
    expect(keyless.status).toBe(403);
    expect(await keyless.json()).toEqual({
      error: {
        code: 403,
        message: expect.stringContaining('unregistered callers'),
        status: 'PERMISSION_DENIED',
      },
    });
  });

  it('answers errors, invalid bodies and unknown paths in the Google error format', async () => {
    fake.setBehavior({ error: { status: 429, retryAfterSeconds: 7 }, failTimes: 1 });
    const limited = await post(model('generateContent'), body, KEY);
    expect(limited.status).toBe(429);
    expect(limited.headers.get('retry-after')).toBe('7');
    expect(await limited.json()).toEqual({
      error: { code: 429, message: expect.any(String), status: 'RESOURCE_EXHAUSTED' },
    });

    const invalid = await post(model('generateContent'), { contents: [] }, KEY);
    expect(invalid.status).toBe(400);
    expect(await invalid.json()).toMatchObject({ error: { code: 400, status: 'INVALID_ARGUMENT' } });

    const unknown = await post(model('embedContent'), body, KEY);
    expect(unknown.status).toBe(404);
    expect(await unknown.json()).toMatchObject({ error: { code: 404, status: 'NOT_FOUND' } });
  });
});
