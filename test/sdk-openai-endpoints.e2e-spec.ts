import Anthropic from '@anthropic-ai/sdk';
import { GoogleGenAI } from '@google/genai';
import OpenAI, { toFile } from 'openai';
import {
  embeddingVector,
  fakeSpeechBytes,
  FAKE_PNG_BASE64,
  startFakeUpstream,
  type FakeUpstream,
} from '../libs/testing/src/fake-upstreams';
import { adminClient, creditAccount, usageEventOf } from './router-test-helpers';
import { startTestStack, type TestStack } from './support/test-stack';

/**
 * The OpenAI endpoints beyond chat (Responses, embeddings, images, audio, rerank) through the official
 * SDK, relayed to an OpenAI-compatible channel with failover and one usage event each; the free token
 * counters of the Anthropic and Gemini surfaces; and model listings that show only what a key may call.
 */
describe('OpenAI endpoints, token counting and model listings', () => {
  let stack: TestStack;
  let primary: FakeUpstream;
  let backup: FakeUpstream;
  let anthropicFake: FakeUpstream;
  let geminiFake: FakeUpstream;
  let client: OpenAI;
  const admin = () => adminClient(stack);

  beforeAll(async () => {
    [stack, primary, backup, anthropicFake, geminiFake] = await Promise.all([
      startTestStack(),
      startFakeUpstream('openai'),
      startFakeUpstream('openai'),
      startFakeUpstream('anthropic'),
      startFakeUpstream('gemini'),
    ]);
    await creditAccount(stack, stack.demo!.account.id, 100);
    await admin().disableAllChannels();
    const models = [
      { id: 'text-embedding-3-small', modality: 'embedding', inputUsdPerMTok: 0.02, outputUsdPerMTok: 0 },
      { id: 'gpt-image-1', modality: 'image', inputUsdPerMTok: 5, outputUsdPerMTok: 40 },
      { id: 'dall-e-3', modality: 'image', inputUsdPerMTok: 0, outputUsdPerMTok: 0, perRequestUsd: 0.04 },
      { id: 'gpt-4o-transcribe', modality: 'audio', inputUsdPerMTok: 2.5, outputUsdPerMTok: 10 },
      { id: 'tts-1', modality: 'audio', inputUsdPerMTok: 15, outputUsdPerMTok: 0 },
      { id: 'jina-reranker-v2', modality: 'rerank', inputUsdPerMTok: 0.02, outputUsdPerMTok: 0 },
    ];
    for (const m of models) {
      const res = await admin().call('POST', '/api/v1/admin/models', { vendor: 'test', ...m });
      expect(res.status).toBe(201);
    }
    const served = ['gpt-5', ...models.map((m) => m.id)];
    await admin().createChannel({
      name: 'openai-primary',
      type: 'openai',
      baseUrl: primary.baseUrl,
      credentials: { apiKey: 'sk-primary-upstream-key' },
      models: served,
      priority: 0,
    });
    await admin().createChannel({
      name: 'openai-backup',
      type: 'openai-compatible',
      baseUrl: backup.baseUrl,
      credentials: { apiKey: 'sk-backup-upstream-key' },
      models: served,
      priority: 1,
    });
    await admin().createChannel({
      name: 'anthropic-main',
      type: 'anthropic',
      baseUrl: anthropicFake.baseUrl,
      credentials: { apiKey: 'sk-ant-x' },
      models: ['claude-opus-4-7'],
    });
    await admin().createChannel({
      name: 'gemini-main',
      type: 'gemini',
      baseUrl: geminiFake.baseUrl,
      credentials: { apiKey: 'AIza-x' },
      models: ['gemini-2.5-pro'],
    });
    client = new OpenAI({ apiKey: stack.demo!.apiKey!.key, baseURL: `${stack.url}/v1`, maxRetries: 0 });
  });

  afterAll(async () => {
    await Promise.all([
      stack?.close(),
      primary?.close(),
      backup?.close(),
      anthropicFake?.close(),
      geminiFake?.close(),
    ]);
  });

  beforeEach(() => {
    for (const f of [primary, backup, anthropicFake, geminiFake]) f.reset();
  });

  describe('/v1/responses', () => {
    it('relays a Response and bills its usage (cached input split out)', async () => {
      primary.setBehavior({
        usage: { inputTokens: 100, outputTokens: 20, cacheReadTokens: 40, reasoningTokens: 5 },
      });
      const { data, response } = await client.responses
        .create({
          model: 'gpt-5',
          input: 'Hello Responses',
          instructions: 'Be terse.',
          max_output_tokens: 64,
        })
        .withResponse();
      expect(data.output_text).toBe('Hello from fake-openai: Hello Responses');
      expect(primary.requests[0].path).toBe('/v1/responses');
      expect(primary.requests[0].json).toEqual({
        model: 'gpt-5',
        input: 'Hello Responses',
        instructions: 'Be terse.',
        max_output_tokens: 64,
      });
      expect((data.usage as unknown as { cost: number }).cost).toBeGreaterThan(0);
      const event = await usageEventOf(stack, response.headers.get('x-request-id')!);
      expect(event).toMatchObject({
        endpoint: '/v1/responses',
        inputTokens: 60,
        cacheReadTokens: 40,
        outputTokens: 20,
        reasoningTokens: 5,
        usageSource: 'upstream',
      });
    });

    it('streams the Responses event sequence untouched, with the cost on response.completed', async () => {
      const stream = await client.responses.create({ model: 'gpt-5', input: 'Stream it', stream: true });
      const types: string[] = [];
      let text = '';
      let completed: OpenAI.Responses.Response | undefined;
      for await (const event of stream) {
        types.push(event.type);
        if (event.type === 'response.output_text.delta') text += event.delta;
        if (event.type === 'response.completed') completed = event.response;
      }
      expect(types[0]).toBe('response.created');
      expect(types.at(-1)).toBe('response.completed');
      expect(text).toBe('Hello from fake-openai: Stream it');
      expect((completed!.usage as unknown as { cost: number }).cost).toBeGreaterThan(0);
    });

    it('translates a Response for an Anthropic channel, JSON and stream, function calls included', async () => {
      anthropicFake.setBehavior({ usage: { inputTokens: 30, outputTokens: 10 } });
      const res = await client.responses.create({
        model: 'claude-opus-4-7',
        instructions: 'Be brief.',
        input: [{ role: 'user', content: [{ type: 'input_text', text: 'Hello via Responses' }] }],
        max_output_tokens: 100,
      });
      expect(res.output_text).toBe('Hello from fake-anthropic: Hello via Responses');
      expect(res.usage).toMatchObject({ input_tokens: 30, output_tokens: 10 });
      expect(anthropicFake.requests[0].json).toEqual({
        model: 'claude-opus-4-7',
        max_tokens: 100,
        system: 'Be brief.',
        messages: [{ role: 'user', content: [{ type: 'text', text: 'Hello via Responses' }] }],
      });

      // The SDK's stream helper checks the event sequence as it rebuilds the Response.
      const stream = client.responses.stream({ model: 'claude-opus-4-7', input: 'Stream via Responses' });
      const deltas: string[] = [];
      stream.on('response.output_text.delta', (e) => deltas.push(e.delta));
      const final = await stream.finalResponse();
      expect(final.output_text).toBe('Hello from fake-anthropic: Stream via Responses');
      expect(deltas.join('')).toBe(final.output_text);
      expect((final.usage as unknown as { cost: number }).cost).toBeGreaterThan(0);

      anthropicFake.setBehavior({ toolCall: { name: 'lookup', arguments: { q: 'x' } } });
      const tools: OpenAI.Responses.Tool[] = [
        {
          type: 'function',
          name: 'lookup',
          description: 'Find',
          parameters: { type: 'object', properties: { q: { type: 'string' } } },
          strict: false,
        },
      ];
      const called = await client.responses.create({ model: 'claude-opus-4-7', input: 'find x', tools });
      expect(called.output[0]).toMatchObject({
        type: 'function_call',
        name: 'lookup',
        arguments: '{"q":"x"}',
      });
      const streamedCall = await client.responses
        .stream({ model: 'claude-opus-4-7', input: 'find x', tools })
        .finalResponse();
      expect(streamedCall.output[0]).toMatchObject({
        type: 'function_call',
        name: 'lookup',
        arguments: '{"q":"x"}',
      });

      // The tool result goes back as a function_call_output item.
      anthropicFake.setBehavior({});
      await client.responses.create({
        model: 'claude-opus-4-7',
        input: [
          { role: 'user', content: 'find x' },
          { type: 'function_call', call_id: 'toolu_1', name: 'lookup', arguments: '{"q":"x"}' },
          { type: 'function_call_output', call_id: 'toolu_1', output: 'found it' },
        ],
        tools,
      });
      expect((anthropicFake.requests.at(-1)!.json as { messages: unknown[] }).messages).toEqual([
        { role: 'user', content: [{ type: 'text', text: 'find x' }] },
        {
          role: 'assistant',
          content: [{ type: 'tool_use', id: 'toolu_1', name: 'lookup', input: { q: 'x' } }],
        },
        { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_1', content: 'found it' }] },
      ]);
    });

    it('fails over to the next OpenAI-compatible channel', async () => {
      primary.setBehavior({ error: { status: 500 } });
      const res = await client.responses.create({ model: 'gpt-5', input: 'x' });
      expect(res.output_text).toBe('Hello from fake-openai: x');
      expect(backup.requests[0].headers.authorization).toBe('Bearer sk-backup-upstream-key');
    });
  });

  it('/v1/embeddings: relays base64 embeddings as the SDK asks and bills prompt tokens', async () => {
    const { data, response } = await client.embeddings
      .create({ model: 'text-embedding-3-small', input: ['alpha', 'beta'], dimensions: 4 })
      .withResponse();
    expect(data.data.map((d) => d.embedding)).toEqual([
      embeddingVector('alpha', 4),
      embeddingVector('beta', 4),
    ]);
    expect(primary.requests[0].json).toMatchObject({
      model: 'text-embedding-3-small',
      input: ['alpha', 'beta'],
      encoding_format: 'base64',
    });
    const event = await usageEventOf(stack, response.headers.get('x-request-id')!);
    expect(event).toMatchObject({
      endpoint: '/v1/embeddings',
      inputTokens: data.usage.prompt_tokens,
      outputTokens: 0,
    });
  });

  it('/v1/images/generations: token-billed gpt-image-1, per-image-billed dall-e-3', async () => {
    const { data, response } = await client.images
      .generate({ model: 'gpt-image-1', prompt: 'a red fox', n: 2 })
      .withResponse();
    expect(data.data!.map((d) => d.b64_json)).toEqual([FAKE_PNG_BASE64, FAKE_PNG_BASE64]);
    const tokens = await usageEventOf(stack, response.headers.get('x-request-id')!);
    expect(tokens).toMatchObject({
      endpoint: '/v1/images/generations',
      outputTokens: 544,
      usageSource: 'upstream',
    });

    const dalle = await client.images
      .generate({ model: 'dall-e-3', prompt: 'a blue fox', n: 3 })
      .withResponse();
    const perImage = await usageEventOf(stack, dalle.response.headers.get('x-request-id')!);
    expect(perImage.costMicroUsd).toBe(3 * 40_000);
  });

  it('/v1/images/edits: forwards the multipart upload with the channel model', async () => {
    const res = await client.images.edit({
      model: 'gpt-image-1',
      image: await toFile(Buffer.from('not-really-a-png'), 'fox.png', { type: 'image/png' }),
      prompt: 'add a hat',
    });
    expect(res.data![0].b64_json).toBe(FAKE_PNG_BASE64);
    const sent = primary.requests[0];
    expect(sent.headers['content-type']).toMatch(/^multipart\/form-data; boundary=/);
    expect(sent.rawBody).toContain('name="prompt"\r\n\r\nadd a hat');
    expect(sent.rawBody).toContain('filename="fox.png"');
    expect(sent.rawBody).toContain('not-really-a-png');
  });

  it('/v1/audio/transcriptions: multipart in, transcript and token usage out', async () => {
    const { data, response } = await client.audio.transcriptions
      .create({
        model: 'gpt-4o-transcribe',
        file: await toFile(Buffer.from('RIFF-fake-wave-data'), 'talk.wav'),
      })
      .withResponse();
    expect(data.text).toBe('Transcript of talk.wav');
    const event = await usageEventOf(stack, response.headers.get('x-request-id')!);
    expect(event).toMatchObject({ endpoint: '/v1/audio/transcriptions', usageSource: 'upstream' });
    expect(event.outputTokens).toBeGreaterThan(0);

    const text = await client.audio.transcriptions.create({
      model: 'gpt-4o-transcribe',
      file: await toFile(Buffer.from('RIFF'), 'plain.wav'),
      response_format: 'text',
    });
    expect(String(text).trim()).toBe('Transcript of plain.wav');
  });

  it('/v1/audio/speech: relays the audio bytes and bills the input text', async () => {
    const res = await client.audio.speech
      .create({ model: 'tts-1', voice: 'alloy', input: 'Hello speech' })
      .asResponse();
    expect(res.headers.get('content-type')).toBe('audio/mpeg');
    expect(Buffer.from(await res.arrayBuffer())).toEqual(fakeSpeechBytes('Hello speech'));
    const event = await usageEventOf(stack, res.headers.get('x-request-id')!);
    expect(event).toMatchObject({
      endpoint: '/v1/audio/speech',
      usageSource: 'estimated',
      status: 'success',
    });
    expect(event.inputTokens).toBeGreaterThan(0);
  });

  it('/v1/rerank (and /api/v1/rerank): relays results and bills the reported tokens', async () => {
    const res = await fetch(`${stack.url}/api/v1/rerank`, {
      method: 'POST',
      headers: { authorization: `Bearer ${stack.demo!.apiKey!.key}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        model: 'jina-reranker-v2',
        query: 'red fox',
        documents: ['a blue whale', 'the red fox jumps'],
        top_n: 1,
      }),
    });
    expect(res.status).toBe(200);
    const body = (await res.json()) as {
      results: Array<{ index: number }>;
      usage: { total_tokens: number; cost: number };
    };
    expect(body.results).toEqual([expect.objectContaining({ index: 1 })]);
    expect(body.usage.cost).toBeGreaterThan(0);
    const event = await usageEventOf(stack, res.headers.get('x-request-id')!);
    expect(event.inputTokens).toBe(body.usage.total_tokens);
  });

  describe('token counting (free, not recorded)', () => {
    it("answers Anthropic's count_tokens from an Anthropic channel", async () => {
      const anthropic = new Anthropic({ apiKey: stack.demo!.apiKey!.key, baseURL: stack.url, maxRetries: 0 });
      const counted = await anthropic.messages.countTokens({
        model: 'claude-opus-4-7',
        messages: [{ role: 'user', content: 'How many tokens is this?' }],
      });
      expect(counted.input_tokens).toBeGreaterThan(0);
      expect(anthropicFake.requests[0].path).toBe('/v1/messages/count_tokens');
      expect(anthropicFake.requests[0].headers['x-api-key']).toBe('sk-ant-x');
    });

    it('counts locally when no channel of the format serves the model', async () => {
      const anthropic = new Anthropic({ apiKey: stack.demo!.apiKey!.key, baseURL: stack.url, maxRetries: 0 });
      const counted = await anthropic.messages.countTokens({
        model: 'gpt-5',
        messages: [{ role: 'user', content: 'Hello hello hello' }],
      });
      expect(counted.input_tokens).toBeGreaterThan(0);
      expect(primary.requests).toHaveLength(0);
    });

    it("answers Gemini's countTokens from a Gemini channel", async () => {
      const gemini = new GoogleGenAI({
        apiKey: stack.demo!.apiKey!.key,
        httpOptions: { baseUrl: stack.url },
      });
      const counted = await gemini.models.countTokens({
        model: 'gemini-2.5-pro',
        contents: 'Count me please',
      });
      expect(counted.totalTokens).toBeGreaterThan(0);
      expect(geminiFake.requests[0].path).toBe('/v1beta/models/gemini-2.5-pro:countTokens');
    });
  });

  describe('model listings', () => {
    it('lists only models an enabled channel serves, on /v1/models and /v1beta/models', async () => {
      const listed = (await client.models.list()).data.map((m) => m.id).sort();
      expect(listed).toEqual(
        [
          'claude-opus-4-7',
          'dall-e-3',
          'gemini-2.5-pro',
          'gpt-4o-transcribe',
          'gpt-5',
          'gpt-image-1',
          'jina-reranker-v2',
          'text-embedding-3-small',
          'tts-1',
        ].sort(),
      );
      expect(listed).not.toContain('deepseek-v3'); // in the catalog, but no enabled channel serves it
      const one = await client.models.retrieve('gpt-5');
      expect(one).toMatchObject({ id: 'gpt-5', object: 'model' });
      await expect(client.models.retrieve('deepseek-v3')).rejects.toBeInstanceOf(OpenAI.NotFoundError);

      const res = await fetch(`${stack.url}/v1beta/models?key=${stack.demo!.apiKey!.key}`);
      const gemini = (await res.json()) as { models: Array<{ name: string }> };
      expect(gemini.models.map((m) => m.name)).toContain('models/gemini-2.5-pro');
      expect(gemini.models.map((m) => m.name)).not.toContain('models/deepseek-v3');
    });
  });
});
