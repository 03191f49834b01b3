import { parseSse } from '@torouter/testing';
import { startTestStack, type TestStack } from './support/test-stack';

/**
 * The first call a new user makes: the built-in demo channel answers in the OpenAI, Anthropic and Gemini
 * formats, streaming too, with a real key checked by the real keys and auth services over NATS.
 */
describe('demo channel through the router', () => {
  let stack: TestStack;
  let key: string;

  beforeAll(async () => {
    stack = await startTestStack();
    key = stack.demo!.apiKey!.key;
  });

  afterAll(async () => {
    await stack?.close();
  });

  const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
    fetch(`${stack.url}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });

  it('answers an OpenAI chat completion with usage and cost', async () => {
    const res = await post(
      '/v1/chat/completions',
      { model: 'gpt-5', messages: [{ role: 'user', content: 'Hello!' }] },
      { authorization: `Bearer ${key}` },
    );
    expect(res.status).toBe(200);
    expect(res.headers.get('x-request-id')).toMatch(/^req_/);
    const body = (await res.json()) as {
      object: string;
      model: string;
      choices: Array<{ message: { role: string; content: string }; finish_reason: string }>;
      usage: { prompt_tokens: number; completion_tokens: number; cost: number };
    };
    expect(body.object).toBe('chat.completion');
    expect(body.model).toBe('gpt-5');
    expect(body.choices[0].message.role).toBe('assistant');
    expect(body.choices[0].message.content).toContain('Hello!');
    expect(body.choices[0].finish_reason).toBe('stop');
    expect(body.usage.prompt_tokens).toBeGreaterThan(0);
    expect(body.usage.completion_tokens).toBeGreaterThan(0);
    expect(body.usage.cost).toBeGreaterThan(0);
  });

  it('streams OpenAI chunks ending in a usage chunk and [DONE] under /api/v1 too', async () => {
    const res = await post(
      '/api/v1/chat/completions',
      {
        model: 'gpt-5',
        stream: true,
        stream_options: { include_usage: true },
        messages: [{ role: 'user', content: 'Stream please' }],
      },
      { authorization: `Bearer ${key}` },
    );
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/event-stream');
    expect(res.headers.get('x-request-id')).toMatch(/^req_/);
    const events = parseSse(await res.text());
    expect(events.at(-1)!.data).toBe('[DONE]');
    const chunks = events.slice(0, -1).map((e) => JSON.parse(e.data) as Record<string, any>);
    expect(chunks.every((c) => c.object === 'chat.completion.chunk')).toBe(true);
    const text = chunks.map((c) => c.choices?.[0]?.delta?.content ?? '').join('');
    expect(text).toContain('Stream please');
    const usageChunk = chunks.at(-1)!;
    expect(usageChunk.choices).toEqual([]);
    expect(usageChunk.usage.completion_tokens).toBeGreaterThan(0);
  });

  it('answers the Anthropic Messages API with x-api-key, JSON and SSE', async () => {
    const headers = { 'x-api-key': key, 'anthropic-version': '2023-06-01' };
    const json = await post(
      '/v1/messages',
      { model: 'claude-opus-4-7', max_tokens: 256, messages: [{ role: 'user', content: 'Hi Claude' }] },
      headers,
    );
    expect(json.status).toBe(200);
    const msg = (await json.json()) as {
      type: string;
      role: string;
      content: Array<{ type: string; text: string }>;
      stop_reason: string;
      usage: { input_tokens: number; output_tokens: number };
    };
    expect(msg).toMatchObject({ type: 'message', role: 'assistant', stop_reason: 'end_turn' });
    expect(msg.content[0].text).toContain('Hi Claude');
    expect(msg.usage.output_tokens).toBeGreaterThan(0);

    const stream = await post(
      '/v1/messages',
      {
        model: 'claude-opus-4-7',
        max_tokens: 256,
        stream: true,
        messages: [{ role: 'user', content: 'Hi' }],
      },
      headers,
    );
    const names = parseSse(await stream.text()).map((e) => e.event);
    expect(names[0]).toBe('message_start');
    expect(names).toContain('content_block_delta');
    expect(names.at(-2)).toBe('message_delta');
    expect(names.at(-1)).toBe('message_stop');
  });

  it('answers Gemini generateContent with ?key= and streamGenerateContent?alt=sse with x-goog-api-key', async () => {
    const body = { contents: [{ role: 'user', parts: [{ text: 'Hi Gemini' }] }] };
    const res = await post(`/v1beta/models/gemini-2.5-pro:generateContent?key=${key}`, body);
    expect(res.status).toBe(200);
    const out = (await res.json()) as {
      candidates: Array<{ content: { parts: Array<{ text: string }> }; finishReason: string }>;
      usageMetadata: { candidatesTokenCount: number };
    };
    expect(out.candidates[0].content.parts.map((p) => p.text).join('')).toContain('Hi Gemini');
    expect(out.candidates[0].finishReason).toBe('STOP');
    expect(out.usageMetadata.candidatesTokenCount).toBeGreaterThan(0);

    const stream = await post('/api/v1beta/models/gemini-2.5-pro:streamGenerateContent?alt=sse', body, {
      'x-goog-api-key': key,
    });
    expect(stream.status).toBe(200);
    const events = parseSse(await stream.text()).map((e) => JSON.parse(e.data) as Record<string, any>);
    expect(events.length).toBeGreaterThan(1);
    expect(events.at(-1)!.candidates[0].finishReason).toBe('STOP');
  });

  it('lists the catalog on GET /v1/models for a valid key', async () => {
    const res = await fetch(`${stack.url}/v1/models`, { headers: { authorization: `Bearer ${key}` } });
    expect(res.status).toBe(200);
    const list = (await res.json()) as { data: Array<{ id: string }> };
    expect(list.data.map((m) => m.id)).toEqual(
      expect.arrayContaining(['gpt-5', 'claude-opus-4-7', 'gemini-2.5-pro']),
    );
  });

  describe('refusals, each in the caller’s envelope', () => {
    const chat = { model: 'gpt-5', messages: [{ role: 'user', content: 'x' }] };

    it('no credential → 401 API_KEY_REQUIRED (OpenAI envelope)', async () => {
      const res = await post('/v1/chat/completions', chat);
      expect(res.status).toBe(401);
      expect(await res.json()).toEqual({
        error: {
          type: 'API_KEY_REQUIRED',
          code: 'API_KEY_REQUIRED',
          message: expect.any(String),
          param: null,
        },
      });
    });

    it('a mistyped key → 401 INVALID_API_KEY (Anthropic envelope)', async () => {
      const typo = key.slice(0, -1) + (key.endsWith('a') ? 'b' : 'a');
      const res = await post(
        '/v1/messages',
        { model: 'claude-opus-4-7', max_tokens: 5, messages: [] },
        { 'x-api-key': typo },
      );
      expect(res.status).toBe(401);
      expect(await res.json()).toEqual({
        type: 'error',
        error: { type: 'INVALID_API_KEY', message: expect.any(String) },
      });
    });

    it('?api_key= → 400 api_key_in_query_deprecated; ?key= outside Gemini too', async () => {
      const a = await post(`/v1/chat/completions?api_key=${key}`, chat);
      expect(a.status).toBe(400);
      expect(await a.json()).toMatchObject({ error: { code: 'api_key_in_query_deprecated' } });
      const b = await post(`/v1/chat/completions?key=${key}`, chat);
      expect(b.status).toBe(400);
    });

    it('no credential on Gemini → 401 in the Gemini envelope with the code in the message', async () => {
      const res = await post('/v1beta/models/gemini-2.5-pro:generateContent', { contents: [] });
      expect(res.status).toBe(401);
      const body = (await res.json()) as { error: { code: number; status: string; message: string } };
      expect(body.error.code).toBe(401);
      expect(body.error.status).toBe('UNAUTHENTICATED');
      expect(body.error.message).toContain('API_KEY_REQUIRED');
    });

    it('an unknown model → 404 model_not_found', async () => {
      const res = await post(
        '/v1/chat/completions',
        { ...chat, model: 'gpt-unknown' },
        { authorization: `Bearer ${key}` },
      );
      expect(res.status).toBe(404);
      expect(await res.json()).toMatchObject({ error: { code: 'model_not_found' } });
    });

    it('malformed JSON → 400 invalid_request, never a 500', async () => {
      const res = await post('/v1/chat/completions', '{"model": "gpt-5", ', {
        authorization: `Bearer ${key}`,
      });
      expect(res.status).toBe(400);
      expect(await res.json()).toMatchObject({ error: { code: 'invalid_request' } });
    });

    it('a body over MAX_BODY_BYTES → 413 request_too_large', async () => {
      const big = JSON.stringify({
        ...chat,
        messages: [{ role: 'user', content: 'x'.repeat(11 * 1024 * 1024) }],
      });
      const res = await post('/v1/chat/completions', big, { authorization: `Bearer ${key}` });
      expect(res.status).toBe(413);
      expect(await res.json()).toMatchObject({ error: { code: 'request_too_large' } });
    });
  });

  it('counts what happened in Prometheus metrics: HTTP routes, relayed requests, refusals, cache lookups', async () => {
    const text = await (await fetch(`${stack.url}/metrics`)).text();
    expect(text).toMatch(
      /torouter_http_requests_total\{route="\/v1\/chat\/completions",method="POST",status="200"[^}]*\} [1-9]/,
    );
    expect(text).toMatch(
      /torouter_relay_requests_total\{surface="openai",model="gpt-5",status="success"[^}]*\} [1-9]/,
    );
    expect(text).toMatch(
      /torouter_relay_requests_total\{surface="anthropic",model="claude-opus-4-7",status="success"[^}]*\} [1-9]/,
    );
    expect(text).toMatch(/torouter_refusals_total\{code="API_KEY_REQUIRED",surface="openai"[^}]*\} [1-9]/);
    expect(text).toMatch(/torouter_refusals_total\{code="model_not_found",surface="openai"[^}]*\} [1-9]/);
    expect(text).toMatch(/torouter_cache_lookups_total\{cache="key_policy",result="hit"[^}]*\} [1-9]/);
    expect(text).toMatch(/torouter_gateway_overhead_seconds_count\{[^}]*surface="openai"[^}]*\} [1-9]/);
    expect(text).toMatch(
      /torouter_upstream_request_duration_seconds_count\{[^}]*channel="demo"[^}]*\} [1-9]/,
    );
    expect(text).toMatch(/torouter_relay_tokens_total\{model="gpt-5",kind="output"[^}]*\} [1-9]/);
  });
});
