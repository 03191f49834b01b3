import OpenAI from 'openai';
import { startFakeUpstream, type FakeUpstream } from '../libs/testing/src/fake-upstreams';
import { adminClient, creditAccount, usageEventOf } from './router-test-helpers';
import { startTestStack, type TestStack } from './support/test-stack';

/**
 * The official OpenAI SDK pointed at the router reaches every provider family: an OpenAI channel byte for
 * byte (same format), Anthropic and Gemini channels translated both ways — JSON and streams, tools,
 * images, structured output — and each request yields one usage event with the upstream's usage and cost.
 */
describe('OpenAI SDK → router → every provider family', () => {
  let stack: TestStack;
  let openai: FakeUpstream;
  let anthropic: FakeUpstream;
  let gemini: FakeUpstream;
  let client: OpenAI;
  let channels: Record<string, string>;

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
    const oa = await admin.createChannel({
      name: 'openai-main',
      type: 'openai',
      baseUrl: openai.baseUrl,
      credentials: { apiKey: 'sk-upstream-openai-secret' },
      models: ['gpt-5', 'gpt-5-mini'],
      modelMapping: { 'gpt-5': 'gpt-4o-mini' },
    });
    const an = await admin.createChannel({
      name: 'anthropic-main',
      type: 'anthropic',
      baseUrl: anthropic.baseUrl,
      credentials: { apiKey: 'sk-ant-upstream-secret' },
      models: ['claude-opus-4-7', 'claude-sonnet-4-7'],
    });
    const ge = await admin.createChannel({
      name: 'gemini-main',
      type: 'gemini',
      baseUrl: gemini.baseUrl,
      credentials: { apiKey: 'AIza-upstream-gemini-secret' },
      models: ['gemini-2.5-pro'],
    });
    channels = { openai: oa.id, anthropic: an.id, gemini: ge.id };
    client = new OpenAI({ apiKey: stack.demo!.apiKey!.key, baseURL: `${stack.url}/v1`, maxRetries: 0 });
  });

  afterAll(async () => {
    await Promise.all([stack?.close(), openai?.close(), anthropic?.close(), gemini?.close()]);
  });

  beforeEach(() => {
    openai.reset();
    anthropic.reset();
    gemini.reset();
  });

  describe('OpenAI channel (same format, relayed as is)', () => {
    it('sends the client body with the mapped model and the channel key, and bills the upstream usage', async () => {
      openai.setBehavior({ usage: { inputTokens: 1000, outputTokens: 200, cacheReadTokens: 400 } });
      const { data, response } = await client.chat.completions
        .create({
          model: 'gpt-5',
          messages: [{ role: 'user', content: 'Say hi' }],
          temperature: 0.3,
          // a parameter the gateway does not know must still reach the provider
          ...({ prediction_hint: 'keep-me' } as object),
        })
        .withResponse();
      expect(data.choices[0].message.content).toBe('Hello from fake-openai: Say hi');
      expect(response.headers.get('x-request-id')).toMatch(/^req_/);
      expect(Number(response.headers.get('x-torouter-overhead-ms'))).toBeGreaterThanOrEqual(0);

      expect(openai.requests).toHaveLength(1);
      const sent = openai.requests[0];
      expect(sent.path).toBe('/v1/chat/completions');
      expect(sent.headers.authorization).toBe('Bearer sk-upstream-openai-secret');
      expect(sent.json).toEqual({
        model: 'gpt-4o-mini',
        messages: [{ role: 'user', content: 'Say hi' }],
        temperature: 0.3,
        prediction_hint: 'keep-me',
      });
      // gpt-5: $1.25 in, $10 out, $0.125 cache read per MTok → 600 in + 400 cached + 200 out
      const cost = (600 * 1.25 + 400 * 0.125 + 200 * 10) / 1e6;
      expect((data.usage as unknown as { cost: number }).cost).toBeCloseTo(cost, 9);

      const event = await usageEventOf(stack, response.headers.get('x-request-id')!);
      expect(event).toMatchObject({
        status: 'success',
        httpStatus: 200,
        surface: 'openai',
        endpoint: '/v1/chat/completions',
        requestedModel: 'gpt-5',
        model: 'gpt-5',
        channelId: channels.openai,
        channelName: 'openai-main',
        attempts: [
          { channelId: channels.openai, channelName: 'openai-main', outcome: 'success', httpStatus: 200 },
        ],
        stream: false,
        usageSource: 'upstream',
        inputTokens: 600,
        cacheReadTokens: 400,
        outputTokens: 200,
        costMicroUsd: Math.round(cost * 1e6),
        keyId: stack.demo!.apiKey!.id,
      });
    });

    it('streams chunk by chunk, asking upstream for usage and ending with the usage chunk and [DONE]', async () => {
      const { data: stream, response } = await client.chat.completions
        .create({
          model: 'gpt-5',
          stream: true,
          stream_options: { include_usage: true },
          messages: [{ role: 'user', content: 'Stream it' }],
        })
        .withResponse();
      expect(response.headers.get('content-type')).toContain('text/event-stream');
      const chunks: OpenAI.Chat.Completions.ChatCompletionChunk[] = [];
      for await (const chunk of stream) chunks.push(chunk);
      const text = chunks.map((c) => c.choices[0]?.delta?.content ?? '').join('');
      expect(text).toBe('Hello from fake-openai: Stream it');
      const last = chunks.at(-1)!;
      expect(last.choices).toEqual([]);
      expect(last.usage!.completion_tokens).toBeGreaterThan(0);
      expect((last.usage as unknown as { cost: number }).cost).toBeGreaterThan(0);
      expect(openai.requests[0].json).toMatchObject({
        stream: true,
        stream_options: { include_usage: true },
      });
      const event = await usageEventOf(stack, response.headers.get('x-request-id')!);
      expect(event).toMatchObject({ status: 'success', stream: true, usageSource: 'upstream' });
      expect(event.outputTokens).toBe(last.usage!.completion_tokens);
      expect(event.ttftMs).not.toBeNull();
    });

    it('bills a stream whose client did not ask for usage, without showing it the usage chunk', async () => {
      const { data: stream, response } = await client.chat.completions
        .create({ model: 'gpt-5', stream: true, messages: [{ role: 'user', content: 'No usage please' }] })
        .withResponse();
      const chunks: OpenAI.Chat.Completions.ChatCompletionChunk[] = [];
      for await (const chunk of stream) chunks.push(chunk);
      expect(chunks.every((c) => c.choices.length === 1)).toBe(true);
      expect(openai.requests[0].json).toMatchObject({ stream_options: { include_usage: true } });
      const event = await usageEventOf(stack, response.headers.get('x-request-id')!);
      expect(event.usageSource).toBe('upstream');
      expect(event.outputTokens).toBeGreaterThan(0);
      expect(event.costMicroUsd).toBeGreaterThan(0);
    });
  });

  describe('Anthropic channel (translated)', () => {
    it('sends an Anthropic Messages request and answers in OpenAI format', async () => {
      anthropic.setBehavior({
        usage: { inputTokens: 50, outputTokens: 20, cacheReadTokens: 10, cacheWriteTokens: 5 },
      });
      const { data, response } = await client.chat.completions
        .create({
          model: 'claude-opus-4-7',
          max_tokens: 300,
          messages: [
            { role: 'system', content: 'Be brief.' },
            { role: 'user', content: 'Hello Claude' },
          ],
        })
        .withResponse();
      expect(data.object).toBe('chat.completion');
      expect(data.model).toBe('claude-opus-4-7');
      expect(data.choices[0].message.content).toBe('Hello from fake-anthropic: Hello Claude');
      expect(data.choices[0].finish_reason).toBe('stop');
      expect(data.usage).toMatchObject({ prompt_tokens: 65, completion_tokens: 20 });

      const sent = anthropic.requests[0];
      expect(sent.path).toBe('/v1/messages');
      expect(sent.headers['x-api-key']).toBe('sk-ant-upstream-secret');
      expect(sent.headers['anthropic-version']).toBe('2023-06-01');
      expect(sent.headers.authorization).toBeUndefined();
      expect(sent.json).toEqual({
        model: 'claude-opus-4-7',
        max_tokens: 300,
        system: 'Be brief.',
        messages: [{ role: 'user', content: [{ type: 'text', text: 'Hello Claude' }] }],
      });
      const event = await usageEventOf(stack, response.headers.get('x-request-id')!);
      expect(event).toMatchObject({
        channelName: 'anthropic-main',
        inputTokens: 50,
        cacheReadTokens: 10,
        cacheWrite5mTokens: 5,
        outputTokens: 20,
      });
      // $15 in, $75 out, $1.5 cache read, $18.75 5-minute cache write per MTok
      expect(event.costMicroUsd).toBe(
        Math.ceil(50 * 15) + Math.ceil(10 * 1.5) + Math.ceil(5 * 18.75) + Math.ceil(20 * 75),
      );
    });

    it('streams an Anthropic event stream as OpenAI chunks', async () => {
      const stream = await client.chat.completions.create({
        model: 'claude-opus-4-7',
        stream: true,
        stream_options: { include_usage: true },
        messages: [{ role: 'user', content: 'Stream from Claude' }],
      });
      const chunks: OpenAI.Chat.Completions.ChatCompletionChunk[] = [];
      for await (const chunk of stream) chunks.push(chunk);
      expect(chunks.map((c) => c.choices[0]?.delta?.content ?? '').join('')).toBe(
        'Hello from fake-anthropic: Stream from Claude',
      );
      expect(chunks.some((c) => c.choices[0]?.finish_reason === 'stop')).toBe(true);
      expect(chunks.at(-1)!.usage!.completion_tokens).toBeGreaterThan(0);
      expect(anthropic.requests[0].json).toMatchObject({ model: 'claude-opus-4-7', stream: true });
    });

    it('translates tools and tool calls both ways, streaming included', async () => {
      anthropic.setBehavior({ toolCall: { name: 'get_weather', arguments: { city: 'Paris' } } });
      const tools: OpenAI.Chat.Completions.ChatCompletionTool[] = [
        {
          type: 'function',
          function: {
            name: 'get_weather',
            description: 'Weather of a city',
            parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
          },
        },
      ];
      const data = await client.chat.completions.create({
        model: 'claude-opus-4-7',
        messages: [{ role: 'user', content: 'Weather in Paris?' }],
        tools,
        tool_choice: { type: 'function', function: { name: 'get_weather' } },
      });
      const call = data.choices[0].message
        .tool_calls![0] as OpenAI.Chat.Completions.ChatCompletionMessageFunctionToolCall;
      expect(data.choices[0].finish_reason).toBe('tool_calls');
      expect(call.function.name).toBe('get_weather');
      expect(JSON.parse(call.function.arguments)).toEqual({ city: 'Paris' });
      expect(anthropic.requests[0].json).toMatchObject({
        tools: [
          {
            name: 'get_weather',
            description: 'Weather of a city',
            input_schema: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
          },
        ],
        tool_choice: { type: 'tool', name: 'get_weather' },
      });

      const stream = await client.chat.completions.create({
        model: 'claude-opus-4-7',
        stream: true,
        messages: [{ role: 'user', content: 'Weather in Paris?' }],
        tools,
      });
      let args = '';
      let name = '';
      for await (const chunk of stream) {
        const delta = chunk.choices[0]?.delta?.tool_calls?.[0];
        if (delta?.function?.name) name = delta.function.name;
        args += delta?.function?.arguments ?? '';
      }
      expect(name).toBe('get_weather');
      expect(JSON.parse(args)).toEqual({ city: 'Paris' });
    });

    it('passes images in messages as Anthropic image blocks', async () => {
      const png =
        'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==';
      await client.chat.completions.create({
        model: 'claude-opus-4-7',
        messages: [
          {
            role: 'user',
            content: [
              { type: 'text', text: 'What is this?' },
              { type: 'image_url', image_url: { url: `data:image/png;base64,${png}` } },
            ],
          },
        ],
      });
      expect(anthropic.requests[0].json).toMatchObject({
        messages: [
          {
            role: 'user',
            content: [
              { type: 'text', text: 'What is this?' },
              { type: 'image', source: { type: 'base64', media_type: 'image/png', data: png } },
            ],
          },
        ],
      });
    });
  });

  describe('Gemini channel (translated)', () => {
    it('sends generateContent with the channel key and answers in OpenAI format', async () => {
      const data = await client.chat.completions.create({
        model: 'gemini-2.5-pro',
        messages: [{ role: 'user', content: 'Hello Gemini' }],
        max_tokens: 100,
      });
      expect(data.choices[0].message.content).toBe('Hello from fake-gemini: Hello Gemini');
      const sent = gemini.requests[0];
      expect(sent.path).toBe('/v1beta/models/gemini-2.5-pro:generateContent');
      expect(sent.headers['x-goog-api-key']).toBe('AIza-upstream-gemini-secret');
      expect(sent.json).toEqual({
        contents: [{ role: 'user', parts: [{ text: 'Hello Gemini' }] }],
        generationConfig: { maxOutputTokens: 100 },
      });
    });

    it('streams from streamGenerateContent?alt=sse', async () => {
      const stream = await client.chat.completions.create({
        model: 'gemini-2.5-pro',
        stream: true,
        stream_options: { include_usage: true },
        messages: [{ role: 'user', content: 'Stream Gemini' }],
      });
      let text = '';
      let usage: OpenAI.CompletionUsage | undefined | null;
      for await (const chunk of stream) {
        text += chunk.choices[0]?.delta?.content ?? '';
        if (chunk.usage) usage = chunk.usage;
      }
      expect(text).toBe('Hello from fake-gemini: Stream Gemini');
      expect(usage!.completion_tokens).toBeGreaterThan(0);
      expect(gemini.requests[0].path).toBe('/v1beta/models/gemini-2.5-pro:streamGenerateContent');
      expect(gemini.requests[0].query).toEqual({ alt: 'sse' });
    });

    it('sends response_format json_schema as Gemini structured output', async () => {
      gemini.setBehavior({ replyText: '{"answer":42}' });
      const schema = { type: 'object', properties: { answer: { type: 'number' } }, required: ['answer'] };
      const data = await client.chat.completions.create({
        model: 'gemini-2.5-pro',
        messages: [{ role: 'user', content: 'The answer?' }],
        response_format: { type: 'json_schema', json_schema: { name: 'answer', schema, strict: true } },
      });
      expect(JSON.parse(data.choices[0].message.content!)).toEqual({ answer: 42 });
      expect(gemini.requests[0].json).toMatchObject({
        generationConfig: { responseMimeType: 'application/json', responseJsonSchema: schema },
      });
    });
  });

  it('switches reasoning on upstream for a -thinking model id', async () => {
    await client.chat.completions.create({
      model: 'claude-opus-4-7-thinking',
      max_tokens: 8000,
      messages: [{ role: 'user', content: 'Think' }],
    });
    expect(anthropic.requests[0].json).toMatchObject({
      model: 'claude-opus-4-7',
      thinking: { type: 'enabled' },
    });
  });

  it('answers under /api/v1 as well', async () => {
    const viaApi = new OpenAI({
      apiKey: stack.demo!.apiKey!.key,
      baseURL: `${stack.url}/api/v1`,
      maxRetries: 0,
    });
    const data = await viaApi.chat.completions.create({
      model: 'gpt-5',
      messages: [{ role: 'user', content: 'hi' }],
    });
    expect(data.choices[0].message.content).toBe('Hello from fake-openai: hi');
  });
});
