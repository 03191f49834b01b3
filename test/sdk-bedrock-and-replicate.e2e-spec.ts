import Anthropic from '@anthropic-ai/sdk';
import { GoogleGenAI } from '@google/genai';
import OpenAI from 'openai';
import { startFakeUpstream, type FakeUpstream } from '../libs/testing/src/fake-upstreams';
import { adminClient, creditAccount, usageEventOf } from './router-test-helpers';
import { startTestStack, type TestStack } from './support/test-stack';

/**
 * Bedrock (Converse / ConverseStream with SigV4 and AWS event-stream framing) and Replicate (predictions,
 * with urls.stream) channels, reached from the OpenAI, Anthropic and Gemini SDKs: the exact upstream
 * request, JSON and streams, and the usage each one reports.
 */
describe('Bedrock and Replicate channels through every SDK', () => {
  let stack: TestStack;
  let bedrock: FakeUpstream;
  let replicate: FakeUpstream;
  let openai: OpenAI;
  let anthropic: Anthropic;
  let gemini: GoogleGenAI;

  beforeAll(async () => {
    [stack, bedrock, replicate] = await Promise.all([
      startTestStack(),
      startFakeUpstream('bedrock'),
      startFakeUpstream('replicate'),
    ]);
    const admin = adminClient(stack);
    await creditAccount(stack, stack.demo!.account.id, 100);
    await admin.disableAllChannels();
    await admin.createChannel({
      name: 'bedrock-us',
      type: 'bedrock',
      baseUrl: bedrock.baseUrl,
      credentials: {
        accessKeyId: 'AKIAFAKEACCESSKEY',
        secretAccessKey: 'fake-secret-access-key-value',
        region: 'us-west-2',
      },
      models: ['claude-sonnet-4-7'],
      modelMapping: { 'claude-sonnet-4-7': 'anthropic.claude-sonnet-4-7-v1:0' },
    });
    await admin.createChannel({
      name: 'replicate-main',
      type: 'replicate',
      baseUrl: replicate.baseUrl,
      credentials: { apiKey: 'r8_fakeReplicateTokenValue0123456789' },
      models: ['deepseek-v3'],
      modelMapping: { 'deepseek-v3': 'deepseek-ai/deepseek-v3' },
    });
    const key = stack.demo!.apiKey!.key;
    openai = new OpenAI({ apiKey: key, baseURL: `${stack.url}/v1`, maxRetries: 0 });
    anthropic = new Anthropic({ apiKey: key, baseURL: stack.url, maxRetries: 0 });
    gemini = new GoogleGenAI({ apiKey: key, httpOptions: { baseUrl: stack.url } });
  });

  afterAll(async () => {
    await Promise.all([stack?.close(), bedrock?.close(), replicate?.close()]);
  });

  beforeEach(() => {
    bedrock.reset();
    replicate.reset();
  });

  describe('Bedrock', () => {
    it('signs a Converse request with SigV4 and answers the OpenAI SDK', async () => {
      bedrock.setBehavior({ usage: { inputTokens: 21, outputTokens: 8, cacheReadTokens: 100 } });
      const { data, response } = await openai.chat.completions
        .create({
          model: 'claude-sonnet-4-7',
          max_tokens: 200,
          temperature: 0.5,
          messages: [
            { role: 'system', content: 'Be brief.' },
            { role: 'user', content: 'Hello Bedrock' },
          ],
        })
        .withResponse();
      expect(data.choices[0].message.content).toBe('Hello from fake-bedrock: Hello Bedrock');
      const sent = bedrock.requests[0];
      expect(sent.path).toBe('/model/anthropic.claude-sonnet-4-7-v1%3A0/converse');
      expect(sent.headers.authorization).toMatch(
        /^AWS4-HMAC-SHA256 Credential=AKIAFAKEACCESSKEY\/\d{8}\/us-west-2\/bedrock\/aws4_request, SignedHeaders=[a-z0-9;-]*host[a-z0-9;-]*, Signature=[0-9a-f]{64}$/,
      );
      expect(sent.headers['x-amz-date']).toMatch(/^\d{8}T\d{6}Z$/);
      expect(sent.json).toEqual({
        messages: [{ role: 'user', content: [{ text: 'Hello Bedrock' }] }],
        system: [{ text: 'Be brief.' }],
        inferenceConfig: { maxTokens: 200, temperature: 0.5 },
      });
      const event = await usageEventOf(stack, response.headers.get('x-request-id')!);
      expect(event).toMatchObject({
        channelName: 'bedrock-us',
        inputTokens: 21,
        outputTokens: 8,
        cacheReadTokens: 100,
      });
      expect(JSON.stringify(event)).not.toContain('fake-secret-access-key-value');
    });

    it('relays ConverseStream (binary event stream) as OpenAI chunks with usage', async () => {
      const stream = await openai.chat.completions.create({
        model: 'claude-sonnet-4-7',
        stream: true,
        stream_options: { include_usage: true },
        messages: [{ role: 'user', content: 'Stream Bedrock' }],
      });
      let text = '';
      let usage: OpenAI.CompletionUsage | null | undefined;
      for await (const chunk of stream) {
        text += chunk.choices[0]?.delta?.content ?? '';
        if (chunk.usage) usage = chunk.usage;
      }
      expect(text).toBe('Hello from fake-bedrock: Stream Bedrock');
      expect(usage!.completion_tokens).toBeGreaterThan(0);
      expect(bedrock.requests[0].path).toBe('/model/anthropic.claude-sonnet-4-7-v1%3A0/converse-stream');
    });

    it('translates tools for the Anthropic SDK, streaming included', async () => {
      bedrock.setBehavior({ toolCall: { name: 'search', arguments: { q: 'bedrock' } } });
      const tools: Anthropic.Tool[] = [
        {
          name: 'search',
          description: 'Search the web',
          input_schema: { type: 'object', properties: { q: { type: 'string' } } },
        },
      ];
      const msg = await anthropic.messages.create({
        model: 'claude-sonnet-4-7',
        max_tokens: 100,
        messages: [{ role: 'user', content: 'find it' }],
        tools,
        tool_choice: { type: 'any' },
      });
      expect(msg.stop_reason).toBe('tool_use');
      expect(msg.content[0]).toMatchObject({ type: 'tool_use', name: 'search', input: { q: 'bedrock' } });
      expect(bedrock.requests[0].json).toMatchObject({
        toolConfig: {
          tools: [
            {
              toolSpec: {
                name: 'search',
                description: 'Search the web',
                inputSchema: { json: { type: 'object', properties: { q: { type: 'string' } } } },
              },
            },
          ],
          toolChoice: { any: {} },
        },
      });
      const streamed = await anthropic.messages
        .stream({
          model: 'claude-sonnet-4-7',
          max_tokens: 100,
          messages: [{ role: 'user', content: 'again' }],
          tools,
        })
        .finalMessage();
      expect(streamed.content[0]).toMatchObject({
        type: 'tool_use',
        name: 'search',
        input: { q: 'bedrock' },
      });
    });

    it('answers the Gemini SDK, and fails over nowhere on a Bedrock 400', async () => {
      const res = await gemini.models.generateContent({
        model: 'claude-sonnet-4-7',
        contents: 'Hi from Gemini',
      });
      expect(res.text).toBe('Hello from fake-bedrock: Hi from Gemini');
      bedrock.setBehavior({ error: { status: 400, message: 'Malformed input request' } });
      const err = await gemini.models
        .generateContent({ model: 'claude-sonnet-4-7', contents: 'x' })
        .catch((e: unknown) => e);
      expect(String(err)).toContain('Malformed input request');
      expect(String(err)).toContain('ValidationException');
    });
  });

  describe('Replicate', () => {
    it('creates a prediction (Prefer: wait) from the OpenAI SDK and bills its token metrics', async () => {
      replicate.setBehavior({ usage: { inputTokens: 12, outputTokens: 6 } });
      const { data, response } = await openai.chat.completions
        .create({
          model: 'deepseek-v3',
          max_tokens: 50,
          messages: [
            { role: 'system', content: 'Answer in English.' },
            { role: 'user', content: 'Hello Replicate' },
          ],
        })
        .withResponse();
      expect(data.choices[0].message.content).toBe('Hello from fake-replicate: Hello Replicate');
      const sent = replicate.requests[0];
      expect(sent.path).toBe('/v1/models/deepseek-ai/deepseek-v3/predictions');
      expect(sent.headers.authorization).toBe('Bearer r8_fakeReplicateTokenValue0123456789');
      expect(sent.headers.prefer).toBe('wait=60');
      expect(sent.json).toEqual({
        input: { prompt: 'Hello Replicate', system_prompt: 'Answer in English.', max_tokens: 50 },
      });
      const event = await usageEventOf(stack, response.headers.get('x-request-id')!);
      expect(event).toMatchObject({
        channelName: 'replicate-main',
        inputTokens: 12,
        outputTokens: 6,
        usageSource: 'upstream',
      });
    });

    it('streams urls.stream to the Anthropic SDK and reads usage from the finished prediction', async () => {
      replicate.setBehavior({ usage: { inputTokens: 9, outputTokens: 4 } });
      const stream = anthropic.messages.stream({
        model: 'deepseek-v3',
        max_tokens: 50,
        messages: [
          { role: 'user', content: 'First' },
          { role: 'assistant', content: 'Reply' },
          { role: 'user', content: 'Stream Replicate' },
        ],
      });
      const msg = await stream.finalMessage();
      // The fake echoes the first 40 characters of the prompt it got: the flattened conversation.
      expect(msg.content[0]).toMatchObject({
        type: 'text',
        text: 'Hello from fake-replicate: User: First\n\nAssistant: Reply\n\nUser: Str',
      });
      expect(msg.usage.output_tokens).toBe(4);
      expect(replicate.requests.map((r) => `${r.method} ${r.path}`)).toEqual([
        'POST /v1/models/deepseek-ai/deepseek-v3/predictions',
        'GET /v1/stream/pred_fake_1',
        'GET /v1/predictions/pred_fake_1',
      ]);
      expect(replicate.requests[0].json).toMatchObject({
        stream: true,
        input: { prompt: 'User: First\n\nAssistant: Reply\n\nUser: Stream Replicate\n\nAssistant:' },
      });
      expect(replicate.requests[1].headers.accept).toBe('text/event-stream');
    });

    it('answers the Gemini SDK stream', async () => {
      let text = '';
      for await (const chunk of await gemini.models.generateContentStream({
        model: 'deepseek-v3',
        contents: 'Gemini to Replicate',
      })) {
        text += chunk.text ?? '';
      }
      expect(text).toBe('Hello from fake-replicate: Gemini to Replicate');
    });

    it('refuses tools with a 400 naming the field, since no channel can take them', async () => {
      const err = await openai.chat.completions
        .create({
          model: 'deepseek-v3',
          messages: [{ role: 'user', content: 'x' }],
          tools: [
            { type: 'function', function: { name: 'f', parameters: { type: 'object', properties: {} } } },
          ],
        })
        .catch((e: unknown) => e);
      expect(err).toBeInstanceOf(OpenAI.BadRequestError);
      expect((err as InstanceType<typeof OpenAI.BadRequestError>).message).toContain('tools');
      expect(replicate.requests).toHaveLength(0);
    });
  });
});
