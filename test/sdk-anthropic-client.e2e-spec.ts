import Anthropic from '@anthropic-ai/sdk';
import { startFakeUpstream, type FakeUpstream } from '../libs/testing/src/fake-upstreams';
import { adminClient, creditAccount, usageEventOf } from './router-test-helpers';
import { startTestStack, type TestStack } from './support/test-stack';

/**
 * The official Anthropic SDK pointed at the router (base URL = host root, or host + /api): an Anthropic
 * channel gets the client's own request (anthropic-beta and cache_control included) and its event stream
 * back untouched; OpenAI and Gemini channels are translated, the client still sees Anthropic's format.
 */
describe('Anthropic SDK → router → every provider family', () => {
  let stack: TestStack;
  let openai: FakeUpstream;
  let anthropic: FakeUpstream;
  let gemini: FakeUpstream;
  let client: Anthropic;

  beforeAll(async () => {
    [stack, openai, anthropic, gemini] = await Promise.all([
      startTestStack(),
      startFakeUpstream('openai'),
      startFakeUpstream('anthropic'),
      startFakeUpstream('gemini'),
    ]);
    const admin = adminClient(stack);
    await creditAccount(stack, stack.demo!.account.id, 100);
    await admin.disableAllChannels();
    await admin.createChannel({
      name: 'anthropic-main',
      type: 'anthropic',
      baseUrl: anthropic.baseUrl,
      credentials: { apiKey: 'sk-ant-upstream-secret' },
      models: ['claude-opus-4-7'],
    });
    await admin.createChannel({
      name: 'openai-main',
      type: 'openai',
      baseUrl: openai.baseUrl,
      credentials: { apiKey: 'sk-upstream-openai-secret' },
      models: ['gpt-5'],
    });
    await admin.createChannel({
      name: 'gemini-main',
      type: 'gemini',
      baseUrl: gemini.baseUrl,
      credentials: { apiKey: 'AIza-upstream-gemini-secret' },
      models: ['gemini-2.5-pro'],
    });
    client = new Anthropic({ apiKey: stack.demo!.apiKey!.key, baseURL: stack.url, maxRetries: 0 });
  });

  afterAll(async () => {
    await Promise.all([stack?.close(), openai?.close(), anthropic?.close(), gemini?.close()]);
  });

  beforeEach(() => {
    openai.reset();
    anthropic.reset();
    gemini.reset();
  });

  describe('Anthropic channel (same format)', () => {
    it('forwards the request with anthropic-beta and cache_control, and bills cache reads and writes', async () => {
      anthropic.setBehavior({
        usage: { inputTokens: 30, outputTokens: 12, cacheReadTokens: 1000, cacheWriteTokens: 200 },
      });
      const { data, response } = await client.messages
        .create(
          {
            model: 'claude-opus-4-7',
            max_tokens: 256,
            system: [
              { type: 'text', text: 'A long, cached system prompt.', cache_control: { type: 'ephemeral' } },
            ],
            messages: [{ role: 'user', content: 'Hi Claude' }],
          },
          { headers: { 'anthropic-beta': 'prompt-caching-2024-07-31' } },
        )
        .withResponse();
      expect(data.content[0]).toMatchObject({ type: 'text', text: 'Hello from fake-anthropic: Hi Claude' });
      expect(data.usage).toMatchObject({
        input_tokens: 30,
        cache_read_input_tokens: 1000,
        output_tokens: 12,
      });
      const sent = anthropic.requests[0];
      expect(sent.headers['x-api-key']).toBe('sk-ant-upstream-secret');
      expect(sent.headers['anthropic-beta']).toBe('prompt-caching-2024-07-31');
      expect(sent.headers['anthropic-version']).toBe('2023-06-01');
      expect(sent.json).toEqual({
        model: 'claude-opus-4-7',
        max_tokens: 256,
        system: [
          { type: 'text', text: 'A long, cached system prompt.', cache_control: { type: 'ephemeral' } },
        ],
        messages: [{ role: 'user', content: 'Hi Claude' }],
      });
      const event = await usageEventOf(stack, response.headers.get('x-request-id')!);
      expect(event).toMatchObject({
        surface: 'anthropic',
        endpoint: '/v1/messages',
        inputTokens: 30,
        cacheReadTokens: 1000,
        cacheWrite5mTokens: 200,
        outputTokens: 12,
        usageSource: 'upstream',
      });
      const cost = Math.ceil(30 * 15) + Math.ceil(1000 * 1.5) + Math.ceil(200 * 18.75) + Math.ceil(12 * 75);
      expect(event.costMicroUsd).toBe(cost);
      expect((data.usage as unknown as { cost: number }).cost).toBeCloseTo(cost / 1e6, 9);
    });

    it('relays the event stream untouched apart from the cost on message_delta', async () => {
      const stream = client.messages.stream({
        model: 'claude-opus-4-7',
        max_tokens: 256,
        messages: [{ role: 'user', content: 'Stream please' }],
      });
      const types: string[] = [];
      stream.on('streamEvent', (e) => types.push(e.type));
      const message = await stream.finalMessage();
      expect(message.content[0]).toMatchObject({
        type: 'text',
        text: 'Hello from fake-anthropic: Stream please',
      });
      expect(types[0]).toBe('message_start');
      expect(types.slice(-2)).toEqual(['message_delta', 'message_stop']);
      expect(message.usage.output_tokens).toBeGreaterThan(0);
      expect(anthropic.requests[0].json).toMatchObject({ stream: true });
    });

    it('answers with base URL host + /api too', async () => {
      const viaApi = new Anthropic({
        apiKey: stack.demo!.apiKey!.key,
        baseURL: `${stack.url}/api`,
        maxRetries: 0,
      });
      const msg = await viaApi.messages.create({
        model: 'claude-opus-4-7',
        max_tokens: 64,
        messages: [{ role: 'user', content: 'via api' }],
      });
      expect(msg.content[0]).toMatchObject({ text: 'Hello from fake-anthropic: via api' });
    });

    it("returns the provider's 400 in Anthropic's envelope without trying another channel", async () => {
      anthropic.setBehavior({
        error: { status: 400, type: 'invalid_request_error', message: 'max_tokens: too large' },
      });
      const err = await client.messages
        .create({ model: 'claude-opus-4-7', max_tokens: 1, messages: [{ role: 'user', content: 'x' }] })
        .catch((e: unknown) => e);
      expect(err).toBeInstanceOf(Anthropic.BadRequestError);
      const e = err as InstanceType<typeof Anthropic.BadRequestError>;
      expect(e.status).toBe(400);
      expect(e.error).toEqual({
        type: 'error',
        error: { type: 'invalid_request_error', message: 'max_tokens: too large' },
      });
      expect(anthropic.requests).toHaveLength(1);
    });
  });

  describe('OpenAI channel (translated)', () => {
    it('sends a Chat Completions request and answers a Message', async () => {
      const msg = await client.messages.create({
        model: 'gpt-5',
        max_tokens: 128,
        system: 'Be nice.',
        messages: [{ role: 'user', content: 'Hello GPT' }],
      });
      expect(msg).toMatchObject({
        type: 'message',
        role: 'assistant',
        model: 'gpt-5',
        stop_reason: 'end_turn',
      });
      expect(msg.content[0]).toMatchObject({ type: 'text', text: 'Hello from fake-openai: Hello GPT' });
      const sent = openai.requests[0];
      expect(sent.path).toBe('/v1/chat/completions');
      expect(sent.headers.authorization).toBe('Bearer sk-upstream-openai-secret');
      expect(sent.headers['x-api-key']).toBeUndefined();
      expect(sent.json).toEqual({
        model: 'gpt-5',
        max_completion_tokens: 128,
        messages: [
          { role: 'system', content: 'Be nice.' },
          { role: 'user', content: 'Hello GPT' },
        ],
      });
    });

    it('streams OpenAI chunks as the Anthropic event sequence, tool calls included', async () => {
      openai.setBehavior({ toolCall: { name: 'lookup', arguments: { q: 'torouter' } } });
      const stream = client.messages.stream({
        model: 'gpt-5',
        max_tokens: 128,
        messages: [{ role: 'user', content: 'Look it up' }],
        tools: [
          {
            name: 'lookup',
            description: 'Search',
            input_schema: { type: 'object', properties: { q: { type: 'string' } } },
          },
        ],
      });
      const message = await stream.finalMessage();
      expect(message.stop_reason).toBe('tool_use');
      expect(message.content[0]).toMatchObject({
        type: 'tool_use',
        name: 'lookup',
        input: { q: 'torouter' },
      });
      expect(openai.requests[0].json).toMatchObject({
        stream: true,
        stream_options: { include_usage: true },
        tools: [{ type: 'function', function: { name: 'lookup', description: 'Search' } }],
      });
    });
  });

  describe('Gemini channel (translated)', () => {
    it('answers Messages JSON and streams from a Gemini channel', async () => {
      const msg = await client.messages.create({
        model: 'gemini-2.5-pro',
        max_tokens: 64,
        messages: [{ role: 'user', content: 'Hello Gemini' }],
      });
      expect(msg.content[0]).toMatchObject({ type: 'text', text: 'Hello from fake-gemini: Hello Gemini' });
      expect(gemini.requests[0].json).toEqual({
        contents: [{ role: 'user', parts: [{ text: 'Hello Gemini' }] }],
        generationConfig: { maxOutputTokens: 64 },
      });
      const text = await client.messages
        .stream({
          model: 'gemini-2.5-pro',
          max_tokens: 64,
          messages: [{ role: 'user', content: 'Stream Gemini' }],
        })
        .finalText();
      expect(text).toBe('Hello from fake-gemini: Stream Gemini');
    });
  });
});
