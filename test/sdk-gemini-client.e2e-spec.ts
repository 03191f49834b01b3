import { GoogleGenAI } from '@google/genai';
import { startFakeUpstream, type FakeUpstream } from '../libs/testing/src/fake-upstreams';
import { adminClient, creditAccount, usageEventOf } from './router-test-helpers';
import { startTestStack, type TestStack } from './support/test-stack';

/**
 * The official Google Gen AI SDK pointed at the router (base URL = host root or host + /api; the SDK adds
 * /v1beta): a Gemini channel gets the client's own request with the channel's key; OpenAI and Anthropic
 * channels are translated both ways, streaming (alt=sse) included.
 */
describe('Gemini SDK → router → every provider family', () => {
  let stack: TestStack;
  let openai: FakeUpstream;
  let anthropic: FakeUpstream;
  let gemini: FakeUpstream;
  let ai: GoogleGenAI;

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
      name: 'gemini-main',
      type: 'gemini',
      baseUrl: gemini.baseUrl,
      credentials: { apiKey: 'AIza-upstream-gemini-secret' },
      models: ['gemini-2.5-pro'],
      modelMapping: { 'gemini-2.5-pro': 'gemini-2.5-pro-002' },
    });
    await admin.createChannel({
      name: 'openai-main',
      type: 'openai',
      baseUrl: openai.baseUrl,
      credentials: { apiKey: 'sk-upstream-openai-secret' },
      models: ['gpt-5'],
    });
    await admin.createChannel({
      name: 'anthropic-main',
      type: 'anthropic',
      baseUrl: anthropic.baseUrl,
      credentials: { apiKey: 'sk-ant-upstream-secret' },
      models: ['claude-opus-4-7'],
    });
    ai = new GoogleGenAI({ apiKey: stack.demo!.apiKey!.key, httpOptions: { baseUrl: stack.url } });
  });

  afterAll(async () => {
    await Promise.all([stack?.close(), openai?.close(), anthropic?.close(), gemini?.close()]);
  });

  beforeEach(() => {
    openai.reset();
    anthropic.reset();
    gemini.reset();
  });

  describe('Gemini channel (same format)', () => {
    it('forwards generateContent with the mapped model and the channel key', async () => {
      gemini.setBehavior({ usage: { inputTokens: 40, outputTokens: 9, reasoningTokens: 3 } });
      const res = await ai.models.generateContent({
        model: 'gemini-2.5-pro',
        contents: 'Hi Gemini',
        config: { temperature: 0.2, systemInstruction: 'Be short.' },
      });
      expect(res.text).toBe('Hello from fake-gemini: Hi Gemini');
      const sent = gemini.requests[0];
      expect(sent.path).toBe('/v1beta/models/gemini-2.5-pro-002:generateContent');
      expect(sent.headers['x-goog-api-key']).toBe('AIza-upstream-gemini-secret');
      expect(sent.query).toEqual({});
      expect(sent.json).toEqual({
        contents: [{ role: 'user', parts: [{ text: 'Hi Gemini' }] }],
        systemInstruction: { role: 'user', parts: [{ text: 'Be short.' }] },
        generationConfig: { temperature: 0.2 },
      });
      expect((res.usageMetadata as unknown as { cost: number }).cost).toBeGreaterThan(0);
      const event = await usageEventOf(stack, res.sdkHttpResponse!.headers!['x-request-id']);
      expect(event).toMatchObject({
        surface: 'gemini',
        endpoint: '/v1beta/models/gemini-2.5-pro:generateContent',
        inputTokens: 40,
        outputTokens: 12,
        reasoningTokens: 3,
      });
    });

    it('streams with alt=sse', async () => {
      const stream = await ai.models.generateContentStream({
        model: 'gemini-2.5-pro',
        contents: 'Stream it',
      });
      let text = '';
      let last: { candidatesTokenCount?: number } | undefined;
      for await (const chunk of stream) {
        text += chunk.text ?? '';
        if (chunk.usageMetadata) last = chunk.usageMetadata;
      }
      expect(text).toBe('Hello from fake-gemini: Stream it');
      expect(last!.candidatesTokenCount).toBeGreaterThan(0);
      expect(gemini.requests[0].path).toBe('/v1beta/models/gemini-2.5-pro-002:streamGenerateContent');
      expect(gemini.requests[0].query).toEqual({ alt: 'sse' });
    });

    it('works with base URL host + /api', async () => {
      const viaApi = new GoogleGenAI({
        apiKey: stack.demo!.apiKey!.key,
        httpOptions: { baseUrl: `${stack.url}/api` },
      });
      const res = await viaApi.models.generateContent({ model: 'gemini-2.5-pro', contents: 'via api' });
      expect(res.text).toBe('Hello from fake-gemini: via api');
    });
  });

  describe('OpenAI channel (translated)', () => {
    it('answers generateContent and its stream from a Chat Completions channel', async () => {
      const res = await ai.models.generateContent({
        model: 'gpt-5',
        contents: 'Hello GPT',
        config: { maxOutputTokens: 50 },
      });
      expect(res.text).toBe('Hello from fake-openai: Hello GPT');
      expect(openai.requests[0].json).toEqual({
        model: 'gpt-5',
        max_completion_tokens: 50,
        messages: [{ role: 'user', content: 'Hello GPT' }],
      });
      let text = '';
      for await (const chunk of await ai.models.generateContentStream({
        model: 'gpt-5',
        contents: 'Stream GPT',
      })) {
        text += chunk.text ?? '';
      }
      expect(text).toBe('Hello from fake-openai: Stream GPT');
    });

    it('translates function declarations and function calls', async () => {
      openai.setBehavior({ toolCall: { name: 'get_time', arguments: { tz: 'UTC' } } });
      const res = await ai.models.generateContent({
        model: 'gpt-5',
        contents: 'What time is it?',
        config: {
          tools: [
            {
              functionDeclarations: [
                {
                  name: 'get_time',
                  description: 'Current time',
                  parametersJsonSchema: { type: 'object', properties: { tz: { type: 'string' } } },
                },
              ],
            },
          ],
        },
      });
      expect(res.functionCalls?.[0]).toMatchObject({ name: 'get_time', args: { tz: 'UTC' } });
      expect(openai.requests[0].json).toMatchObject({
        tools: [{ type: 'function', function: { name: 'get_time', description: 'Current time' } }],
      });
    });
  });

  describe('Anthropic channel (translated)', () => {
    it('answers generateContent and its stream from a Messages channel', async () => {
      const res = await ai.models.generateContent({ model: 'claude-opus-4-7', contents: 'Hello Claude' });
      expect(res.text).toBe('Hello from fake-anthropic: Hello Claude');
      expect(anthropic.requests[0].json).toMatchObject({
        model: 'claude-opus-4-7',
        messages: [{ role: 'user', content: [{ type: 'text', text: 'Hello Claude' }] }],
      });
      let text = '';
      for await (const chunk of await ai.models.generateContentStream({
        model: 'claude-opus-4-7',
        contents: 'Stream Claude',
      })) {
        text += chunk.text ?? '';
      }
      expect(text).toBe('Hello from fake-anthropic: Stream Claude');
    });
  });
});
