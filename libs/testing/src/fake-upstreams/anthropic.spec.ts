import { startFakeAnthropic, type FakeUpstream } from './index';
import { jsonEvents, post, readStream } from './spec-helpers';

const HEADERS = { 'x-api-key': 'sk-ant-test', 'anthropic-version': '2023-06-01' };
const USER_TEXT = 'Summarise the plot of a novel nobody has written yet.';

interface StreamEvent {
  type: string;
  index?: number;
  delta?: { type?: string; text?: string; partial_json?: string; stop_reason?: string };
  usage?: unknown;
  message?: { usage?: unknown };
}

describe('fake Anthropic upstream', () => {
  let fake: FakeUpstream;
  const messages = (
    body: Record<string, unknown>,
    headers: Record<string, string> = HEADERS,
  ): Promise<Response> => post(`${fake.baseUrl}/v1/messages`, body, headers);
  const messageBody = (extra: Record<string, unknown> = {}): Record<string, unknown> => ({
    model: 'claude-sonnet-4-5',
    max_tokens: 256,
    system: 'Be brief.',
    messages: [{ role: 'user', content: [{ type: 'text', text: USER_TEXT }] }],
    ...extra,
  });

  beforeAll(async () => {
    fake = await startFakeAnthropic();
  });
  afterEach(() => fake.reset());
  afterAll(() => fake.close());

  it('uses the host root as base URL', () => {
    expect(fake.baseUrl).toBe(fake.url);
  });

  it('answers a Message with the full usage block', async () => {
    fake.setBehavior({
      usage: { inputTokens: 12, outputTokens: 30, cacheReadTokens: 500, cacheWriteTokens: 80 },
    });
    const res = await messages(messageBody());
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({
      id: 'msg_fake_1',
      type: 'message',
      role: 'assistant',
      model: 'claude-sonnet-4-5',
      content: [{ type: 'text', text: `Hello from fake-anthropic: ${USER_TEXT.slice(0, 40)}` }],
      stop_reason: 'end_turn',
      stop_sequence: null,
      usage: {
        input_tokens: 12,
        cache_creation_input_tokens: 80,
        cache_read_input_tokens: 500,
        cache_creation: { ephemeral_5m_input_tokens: 80, ephemeral_1h_input_tokens: 0 },
        output_tokens: 30,
        service_tier: 'standard',
      },
    });
    const [recorded] = fake.requests;
    expect(recorded?.headers['x-api-key']).toBe('sk-ant-test');
    expect(recorded?.headers['anthropic-version']).toBe('2023-06-01');
    expect(recorded?.json).toEqual(messageBody());
  });

  it('streams the documented event sequence with event names matching payload types', async () => {
    fake.setBehavior({
      replyText: 'Once upon a time.',
      streamChunks: 3,
      usage: { inputTokens: 9, outputTokens: 5 },
    });
    const read = await readStream(await messages(messageBody({ stream: true })));
    expect(read.error).toBeUndefined();
    expect(read.headers.get('content-type')).toContain('text/event-stream');
    expect(read.events.map((e) => e.event)).toEqual([
      'message_start',
      'content_block_start',
      'ping',
      'content_block_delta',
      'content_block_delta',
      'content_block_delta',
      'content_block_stop',
      'message_delta',
      'message_stop',
    ]);
    const events = jsonEvents(read.events) as unknown as StreamEvent[];
    expect(events.map((e) => e.type)).toEqual(read.events.map((e) => e.event));
    expect(events[0]).toEqual({
      type: 'message_start',
      message: {
        id: 'msg_fake_1',
        type: 'message',
        role: 'assistant',
        model: 'claude-sonnet-4-5',
        content: [],
        stop_reason: null,
        stop_sequence: null,
        usage: {
          input_tokens: 9,
          cache_creation_input_tokens: 0,
          cache_read_input_tokens: 0,
          cache_creation: { ephemeral_5m_input_tokens: 0, ephemeral_1h_input_tokens: 0 },
          output_tokens: 1,
          service_tier: 'standard',
        },
      },
    });
    expect(events[1]).toEqual({
      type: 'content_block_start',
      index: 0,
      content_block: { type: 'text', text: '' },
    });
    const text = events
      .filter((e) => e.type === 'content_block_delta')
      .map((e) => {
        expect(e.delta?.type).toBe('text_delta');
        return e.delta?.text;
      })
      .join('');
    expect(text).toBe('Once upon a time.');
    expect(events[6]).toEqual({ type: 'content_block_stop', index: 0 });
    expect(events[7]).toEqual({
      type: 'message_delta',
      delta: { stop_reason: 'end_turn', stop_sequence: null },
      usage: {
        input_tokens: 9,
        cache_creation_input_tokens: 0,
        cache_read_input_tokens: 0,
        output_tokens: 5,
      },
    });
    expect(events[8]).toEqual({ type: 'message_stop' });
  });

  it('answers a tool_use block, and streams its input as input_json_delta', async () => {
    const toolCall = { name: 'lookup', arguments: { query: 'weather in Oslo', limit: 3 } };
    fake.setBehavior({ toolCall, streamChunks: 5 });
    const json = (await (await messages(messageBody())).json()) as { content: unknown; stop_reason: string };
    expect(json.content).toEqual([
      { type: 'tool_use', id: 'toolu_fake_1', name: 'lookup', input: toolCall.arguments },
    ]);
    expect(json.stop_reason).toBe('tool_use');

    const events = jsonEvents(
      (await readStream(await messages(messageBody({ stream: true })))).events,
    ) as unknown as StreamEvent[];
    expect(events[1]).toEqual({
      type: 'content_block_start',
      index: 0,
      content_block: { type: 'tool_use', id: 'toolu_fake_2', name: 'lookup', input: {} },
    });
    const partials = events.filter((e) => e.type === 'content_block_delta').map((e) => e.delta);
    expect(partials).toHaveLength(5);
    expect(partials.every((d) => d?.type === 'input_json_delta')).toBe(true);
    expect(JSON.parse(partials.map((d) => d?.partial_json).join(''))).toEqual(toolCall.arguments);
    expect(events.find((e) => e.type === 'message_delta')?.delta?.stop_reason).toBe('tool_use');
  });

  it('omitUsage removes usage from the Message and from message_start / message_delta', async () => {
    fake.setBehavior({ omitUsage: true });
    expect(await (await messages(messageBody())).json()).not.toHaveProperty('usage');
    const events = jsonEvents(
      (await readStream(await messages(messageBody({ stream: true })))).events,
    ) as unknown as StreamEvent[];
    expect(events[0]?.message).not.toHaveProperty('usage');
    expect(events.find((e) => e.type === 'message_delta')).not.toHaveProperty('usage');
  });

  it('counts tokens', async () => {
    const res = await post(`${fake.baseUrl}/v1/messages/count_tokens`, messageBody(), HEADERS);
    expect(await res.json()).toEqual({ input_tokens: Math.ceil(('Be brief.\n' + USER_TEXT).length / 4) });
    fake.setBehavior({ usage: { inputTokens: 4242 } });
    const overridden = await post(`${fake.baseUrl}/v1/messages/count_tokens`, messageBody(), HEADERS);
    expect(await overridden.json()).toEqual({ input_tokens: 4242 });
  });

  it('requires x-api-key and anthropic-version, answering in the Anthropic error format', async () => {
    const noKey = await messages(messageBody(), { 'anthropic-version': '2023-06-01' });
    expect(noKey.status).toBe(401);
    expect(await noKey.json()).toEqual({
      type: 'error',
      error: { type: 'authentication_error', message: 'x-api-key header is required' },
      request_id: 'req_fake_1',
    });
    const noVersion = await messages(messageBody(), { 'x-api-key': 'k' });
    expect(noVersion.status).toBe(400);
    expect(await noVersion.json()).toMatchObject({
      error: { type: 'invalid_request_error', message: 'anthropic-version: header is required' },
    });
    expect(fake.requests).toHaveLength(2);
  });

  it('validates required fields and unknown paths like the API', async () => {
    const noMax = await messages({ model: 'claude-sonnet-4-5', messages: [] });
    expect(noMax.status).toBe(400);
    expect(await noMax.json()).toMatchObject({
      type: 'error',
      error: { type: 'invalid_request_error', message: 'max_tokens: Field required' },
    });
    const unknown = await post(`${fake.baseUrl}/v1/complete`, {}, HEADERS);
    expect(unknown.status).toBe(404);
    expect(await unknown.json()).toMatchObject({ type: 'error', error: { type: 'not_found_error' } });
  });

  it.each([
    [429, 'rate_limit_error'],
    [500, 'api_error'],
    [529, 'overloaded_error'],
    [401, 'authentication_error'],
  ])('maps an injected %i to the %s error type', async (status, type) => {
    fake.setBehavior({ error: { status } });
    const res = await messages(messageBody());
    expect(res.status).toBe(status);
    expect(await res.json()).toEqual({
      type: 'error',
      error: { type, message: expect.any(String) },
      request_id: 'req_fake_1',
    });
  });
});
