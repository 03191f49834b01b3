import { parseSse, startFakeUpstream, type FakeUpstream } from '../libs/testing/src/fake-upstreams';
import { spawn } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import { connect as tcpConnect, type AddressInfo, type Socket } from 'node:net';
import {
  adminClient,
  creditAccount,
  eventually,
  usageEventOf,
  type ChannelInput,
} from './router-test-helpers';
import { startTestStack, type TestStack } from './support/test-stack';

/**
 * Routing and failure, end to end against fake upstreams: failover order and what triggers it, never
 * the same channel twice, the DECISIONS.md statuses when everything fails, cool-down and recovery,
 * timeouts, client disconnects that abort the upstream, and streams cut before and after the first byte.
 */
describe('router failover, cool-down, timeouts and stream cuts', () => {
  let stack: TestStack;
  let fakes: FakeUpstream[];
  let admin: ReturnType<typeof adminClient>;
  let key: string;

  beforeAll(async () => {
    [stack, ...fakes] = await Promise.all([
      startTestStack({
        env: {
          ROUTER_CHANNEL_FAILURE_THRESHOLD: '2',
          ROUTER_CHANNEL_COOLDOWN_BASE_MS: '600',
          MAX_BODY_BYTES: '65536',
        },
      }),
      startFakeUpstream('openai'),
      startFakeUpstream('openai'),
      startFakeUpstream('openai'),
      startFakeUpstream('anthropic'),
    ]);
    admin = adminClient(stack);
    key = stack.demo!.apiKey!.key;
    await creditAccount(stack, stack.demo!.account.id, 100);
  });

  afterAll(async () => {
    await Promise.all([stack?.close(), ...(fakes ?? []).map((f) => f.close())]);
  });

  beforeEach(async () => {
    await admin.deleteAllChannels();
    for (const f of fakes) f.reset();
  });

  const openaiChannel = (i: number, extra: Partial<ChannelInput> = {}): ChannelInput => ({
    name: `openai-${i}`,
    type: 'openai',
    baseUrl: fakes[i].baseUrl,
    credentials: { apiKey: `sk-upstream-channel-${i}-secret-value` },
    models: ['gpt-5'],
    ...extra,
  });

  const chat = (body: Record<string, unknown> = {}, headers: Record<string, string> = {}) =>
    fetch(`${stack.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json', ...headers },
      body: JSON.stringify({ model: 'gpt-5', messages: [{ role: 'user', content: 'hi' }], ...body }),
    });

  it('fails over on 5xx to the next channel by priority, and records every attempt', async () => {
    const a = await admin.createChannel(openaiChannel(0, { priority: 0 }));
    const b = await admin.createChannel(openaiChannel(1, { priority: 1 }));
    await admin.createChannel(openaiChannel(2, { priority: 2 }));
    fakes[0].setBehavior({ error: { status: 503, message: 'upstream overloaded' } });
    const res = await chat();
    expect(res.status).toBe(200);
    expect(((await res.json()) as any).choices[0].message.content).toBe('Hello from fake-openai: hi');
    expect([fakes[0].requests.length, fakes[1].requests.length, fakes[2].requests.length]).toEqual([1, 1, 0]);
    const event = await usageEventOf(stack, res.headers.get('x-request-id')!);
    expect(event.attempts).toEqual([
      { channelId: a.id, channelName: 'openai-0', outcome: 'upstream_error', httpStatus: 503 },
      { channelId: b.id, channelName: 'openai-1', outcome: 'success', httpStatus: 200 },
    ]);
    expect(event.channelId).toBe(b.id);
  });

  it.each([429, 401, 402, 403, 500])('fails over on upstream %i', async (status) => {
    await admin.createChannel(openaiChannel(0, { priority: 0 }));
    await admin.createChannel(openaiChannel(1, { priority: 1 }));
    fakes[0].setBehavior({ error: { status } });
    const res = await chat();
    expect(res.status).toBe(200);
    expect(fakes[1].requests).toHaveLength(1);
  });

  it('marks a channel whose credentials are refused as unhealthy for admins', async () => {
    const a = await admin.createChannel(openaiChannel(0, { priority: 0 }));
    await admin.createChannel(openaiChannel(1, { priority: 1 }));
    fakes[0].setBehavior({ error: { status: 401, message: 'Incorrect API key provided: sk-upstr***alue' } });
    expect((await chat()).status).toBe(200);
    const listed = (await admin.listChannels()).find((c) => c.id === a.id)!;
    expect(listed.health.status).toBe('unhealthy');
    expect(listed.health.lastError).toMatchObject({ status: 401 });
    expect(JSON.stringify(listed)).not.toContain('sk-upstream-channel-0-secret-value');
    expect(listed.hasCredentials).toBe(true);
  });

  it.each([400, 404])(
    'returns upstream %i at once, in the caller envelope, without failover',
    async (status) => {
      await admin.createChannel(openaiChannel(0, { priority: 0 }));
      await admin.createChannel(openaiChannel(1, { priority: 1 }));
      fakes[0].setBehavior({
        error: { status, type: 'invalid_request_error', message: 'The model does not exist' },
      });
      const res = await chat();
      expect(res.status).toBe(status);
      expect(await res.json()).toEqual({
        error: {
          type: 'invalid_request_error',
          code: 'invalid_request_error',
          message: 'The model does not exist',
          param: null,
        },
      });
      expect(fakes[1].requests).toHaveLength(0);
      const event = await usageEventOf(stack, res.headers.get('x-request-id')!);
      expect(event).toMatchObject({ status: 'error', httpStatus: status, costMicroUsd: 0 });
    },
  );

  it('never shows provider credentials or internal URLs in a relayed error', async () => {
    await admin.createChannel(openaiChannel(0));
    fakes[0].setBehavior({
      error: {
        status: 400,
        message: `bad key sk-upstream-channel-0-secret-value at ${fakes[0].baseUrl}/chat/completions`,
      },
    });
    const res = await chat();
    const text = await res.text();
    expect(res.status).toBe(400);
    expect(text).not.toContain('sk-upstream-channel-0-secret-value');
    expect(text).not.toContain(fakes[0].url);
    expect(text).toContain('[redacted]');
  });

  it('tries each channel at most once, then answers 502 upstream_unavailable per DECISIONS.md', async () => {
    await admin.createChannel(openaiChannel(0, { priority: 0 }));
    await admin.createChannel(openaiChannel(1, { priority: 0 }));
    fakes[0].setBehavior({ error: { status: 500 } });
    fakes[1].setBehavior({ error: { status: 500 } });
    const res = await chat();
    expect(res.status).toBe(502);
    expect(await res.json()).toMatchObject({
      error: {
        type: 'upstream_unavailable',
        code: 'upstream_unavailable',
        message: 'Service temporarily unavailable',
      },
    });
    expect([fakes[0].requests.length, fakes[1].requests.length]).toEqual([1, 1]);
    expect(Number(res.headers.get('x-torouter-overhead-ms'))).toBeGreaterThanOrEqual(0);
    const event = await usageEventOf(stack, res.headers.get('x-request-id')!);
    expect(event).toMatchObject({
      status: 'error',
      httpStatus: 502,
      errorCode: 'upstream_unavailable',
      channelId: null,
    });
    expect(event.attempts).toHaveLength(2);
  });

  it('answers 503 when no channel serves the model, in the Anthropic envelope on /v1/messages', async () => {
    const res = await fetch(`${stack.url}/v1/messages`, {
      method: 'POST',
      headers: { 'x-api-key': key, 'anthropic-version': '2023-06-01', 'content-type': 'application/json' },
      body: JSON.stringify({
        model: 'claude-opus-4-7',
        max_tokens: 10,
        messages: [{ role: 'user', content: 'x' }],
      }),
    });
    expect(res.status).toBe(503);
    expect(await res.json()).toEqual({
      type: 'error',
      error: { type: 'upstream_unavailable', message: 'Service temporarily unavailable' },
    });
  });

  it('cools a failing channel down, skips it meanwhile, and tries it again by itself', async () => {
    const a = await admin.createChannel(openaiChannel(0, { priority: 0 }));
    await admin.createChannel(openaiChannel(1, { priority: 1 }));
    fakes[0].setBehavior({ error: { status: 500 } });
    expect((await chat()).status).toBe(200);
    expect((await chat()).status).toBe(200); // second failure in a row: cool-down starts
    expect(fakes[0].requests).toHaveLength(2);
    const cooling = (await admin.channel(a.id)).health;
    expect(cooling.status).toBe('cooling_down');
    expect(cooling.cooldownUntil).not.toBeNull();
    expect(cooling.recentErrorRate).toBe(1);
    expect((await chat()).status).toBe(200);
    expect(fakes[0].requests).toHaveLength(2); // skipped while cooling down
    fakes[0].setBehavior({});
    // Once the cool-down is over the channel is tried again, and a success puts it back in rotation.
    await eventually(async () => {
      await chat();
      return fakes[0].requests.length === 3 ? true : undefined;
    });
    expect((await admin.channel(a.id)).health.status).toBe('healthy');
  });

  it('fails over when an upstream does not answer within its first-byte timeout, and 504s when none does', async () => {
    await admin.createChannel(openaiChannel(0, { priority: 0, timeouts: { firstByteMs: 300 } }));
    const b = await admin.createChannel(openaiChannel(1, { priority: 1 }));
    fakes[0].setBehavior({ hang: true });
    const ok = await chat();
    expect(ok.status).toBe(200);
    const event = await usageEventOf(stack, ok.headers.get('x-request-id')!);
    expect(event.attempts.map((x) => x.outcome)).toEqual(['timeout', 'success']);

    await admin.deleteChannel(b.id);
    await admin.createChannel(openaiChannel(2, { name: 'openai-2', timeouts: { firstByteMs: 300 } }));
    fakes[2].setBehavior({ hang: true });
    const res = await chat();
    expect(res.status).toBe(504);
    expect(((await res.json()) as any).error.type).toBe('upstream_timeout');
  });

  it('fails over when an upstream cannot be connected to within its connect timeout, and 504s when none can', async () => {
    // A listener that never accepts, its accept queue filled: the kernel drops further SYNs, so a connect
    // hangs (like a firewalled host) instead of being refused.
    const listener = spawn('python3', [
      '-c',
      "import socket,time\ns=socket.socket()\ns.bind(('127.0.0.1',0))\ns.listen(0)\nprint(s.getsockname()[1],flush=True)\ntime.sleep(120)",
    ]);
    const port = await new Promise<number>((resolve) =>
      listener.stdout.once('data', (d) => resolve(Number(d))),
    );
    const fillers: Socket[] = Array.from({ length: 3 }, () =>
      tcpConnect(port, '127.0.0.1').on('error', () => {}),
    );
    try {
      const unreachable = {
        name: 'unreachable',
        type: 'openai',
        baseUrl: `http://127.0.0.1:${port}/v1`,
        credentials: { apiKey: 'sk-unreachable-secret-value' },
        models: ['gpt-5'],
        timeouts: { connectMs: 300 },
      };
      await admin.createChannel({ ...unreachable, priority: 0 });
      await admin.createChannel(openaiChannel(1, { priority: 1 }));
      const ok = await chat();
      expect(ok.status).toBe(200);
      const event = await usageEventOf(stack, ok.headers.get('x-request-id')!);
      expect(event.attempts.map((x) => [x.channelName, x.outcome])).toEqual([
        ['unreachable', 'timeout'],
        ['openai-1', 'success'],
      ]);

      await admin.deleteAllChannels();
      await admin.createChannel({ ...unreachable, name: 'unreachable-2' });
      const res = await chat();
      expect(res.status).toBe(504);
      expect(((await res.json()) as any).error.type).toBe('upstream_timeout');
    } finally {
      for (const f of fillers) f.destroy();
      listener.kill();
    }
  });

  it('fails over when a stream is cut before its first byte reached the client', async () => {
    await admin.createChannel(openaiChannel(0, { priority: 0 }));
    await admin.createChannel(openaiChannel(1, { priority: 1 }));
    fakes[0].setBehavior({ cutAfterChunks: 0 });
    const res = await chat({ stream: true });
    expect(res.status).toBe(200);
    const events = parseSse(await res.text());
    expect(events.at(-1)!.data).toBe('[DONE]');
    expect(fakes[1].requests).toHaveLength(1);
  });

  it('ends a stream cut after the first byte with an error event, counts what was produced, never splices', async () => {
    await admin.createChannel(openaiChannel(0, { priority: 0 }));
    await admin.createChannel(openaiChannel(1, { priority: 1 }));
    fakes[0].setBehavior({
      cutAfterChunks: 4,
      replyText: 'one two three four five six seven eight nine ten',
    });
    const res = await chat({ stream: true, stream_options: { include_usage: true } });
    expect(res.status).toBe(200);
    const events = parseSse(await res.text());
    const last = JSON.parse(events.at(-1)!.data) as { error: { code: string; message: string } };
    expect(last.error.code).toBe('upstream_stream_incomplete');
    expect(events.some((e) => e.data === '[DONE]')).toBe(false);
    expect(fakes[1].requests).toHaveLength(0);
    const event = await usageEventOf(stack, res.headers.get('x-request-id')!);
    expect(event).toMatchObject({
      status: 'error',
      usageSource: 'estimated',
      errorCode: 'upstream_stream_incomplete',
    });
    expect(event.outputTokens).toBeGreaterThan(0);
    expect(event.inputTokens).toBeGreaterThan(0);
  });

  it('reports a mid-stream cut to an Anthropic client as an error event', async () => {
    await admin.createChannel({
      name: 'anthropic-cut',
      type: 'anthropic',
      baseUrl: fakes[3].baseUrl,
      credentials: { apiKey: 'sk-ant-x' },
      models: ['claude-opus-4-7'],
    });
    fakes[3].setBehavior({ cutAfterChunks: 5 });
    const res = await fetch(`${stack.url}/v1/messages`, {
      method: 'POST',
      headers: { 'x-api-key': key, 'anthropic-version': '2023-06-01', 'content-type': 'application/json' },
      body: JSON.stringify({
        model: 'claude-opus-4-7',
        max_tokens: 64,
        stream: true,
        messages: [{ role: 'user', content: 'x' }],
      }),
    });
    const events = parseSse(await res.text());
    expect(events[0].event).toBe('message_start');
    expect(events.at(-1)!.event).toBe('error');
    expect(JSON.parse(events.at(-1)!.data)).toMatchObject({
      type: 'error',
      error: { type: 'upstream_stream_incomplete' },
    });
  });

  it('ends a stream that goes silent longer than firstByteMs with an upstream_timeout error event', async () => {
    await admin.createChannel(openaiChannel(0, { timeouts: { firstByteMs: 400 } }));
    fakes[0].setBehavior({ chunkDelayMs: 1500, streamChunks: 4 });
    const res = await chat({ stream: true });
    const events = parseSse(await res.text());
    const last = JSON.parse(events.at(-1)!.data) as { error: { code: string } };
    expect(last.error.code).toBe('upstream_timeout');
    expect(events.length).toBeGreaterThan(1); // the first chunk got through before the silence
    const event = await usageEventOf(stack, res.headers.get('x-request-id')!);
    expect(event).toMatchObject({ status: 'error', errorCode: 'upstream_timeout' });
    expect(event.attempts[0].outcome).toBe('timeout');
  });

  it('gives up on an answer that exceeds totalMs, failing over while nothing was sent', async () => {
    await admin.createChannel(openaiChannel(0, { priority: 0, timeouts: { totalMs: 300 } }));
    await admin.createChannel(openaiChannel(1, { priority: 1 }));
    fakes[0].setBehavior({ latencyMs: 1000 });
    const res = await chat();
    expect(res.status).toBe(200);
    expect(fakes[1].requests).toHaveLength(1);
  });

  it('sends vendor-prefixed model ids unchanged, and only to OpenRouter channels', async () => {
    await admin.createChannel({
      name: 'claude-direct',
      type: 'anthropic',
      baseUrl: fakes[3].baseUrl,
      credentials: { apiKey: 'sk-ant' },
      models: ['claude-opus-4-7'],
    });
    const refused = await chat({ model: 'anthropic/claude-opus-4-7' });
    expect(refused.status).toBe(503);
    expect(fakes[3].requests).toHaveLength(0);
    await admin.createChannel({
      name: 'openrouter',
      type: 'openrouter',
      baseUrl: fakes[0].baseUrl,
      credentials: { apiKey: 'sk-or' },
      models: ['claude-opus-4-7'],
    });
    const res = await chat({ model: 'anthropic/claude-opus-4-7' });
    expect(res.status).toBe(200);
    expect(fakes[0].requests[0].json).toMatchObject({ model: 'anthropic/claude-opus-4-7' });
    expect(fakes[3].requests).toHaveLength(0);
    const event = await usageEventOf(stack, res.headers.get('x-request-id')!);
    expect(event).toMatchObject({
      requestedModel: 'anthropic/claude-opus-4-7',
      model: 'claude-opus-4-7',
      channelName: 'openrouter',
    });
  });

  it("routes only to channels open to the caller's plan", async () => {
    await admin.createChannel(openaiChannel(0, { priority: 0, plans: ['some-other-plan'] }));
    await admin.createChannel(openaiChannel(1, { priority: 1 }));
    const res = await chat();
    expect(res.status).toBe(200);
    expect(fakes[0].requests).toHaveLength(0);
    const { planId } = await usageEventOf(stack, res.headers.get('x-request-id')!);
    expect(planId).toEqual(expect.any(String));
    await admin.createChannel(openaiChannel(2, { name: 'openai-2', priority: -1, plans: [planId!] }));
    await chat();
    expect(fakes[2].requests).toHaveLength(1);
  });

  describe('client disconnects', () => {
    let upstream: Server;
    let closedEarly: Promise<boolean>;

    beforeEach(async () => {
      // A slow OpenAI-style upstream that reports whether its client hung up before the answer ended.
      let resolveClosed!: (early: boolean) => void;
      closedEarly = new Promise((r) => (resolveClosed = r));
      upstream = createServer((req, res) => {
        req.resume();
        let finished = false;
        res.on('close', () => resolveClosed(!finished));
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        let n = 0;
        const timer = setInterval(() => {
          n += 1;
          const chunk = {
            id: 'c1',
            object: 'chat.completion.chunk',
            model: 'x',
            choices: [{ index: 0, delta: { content: `w${n} ` }, finish_reason: null }],
          };
          res.write(`data: ${JSON.stringify(chunk)}\n\n`);
          if (n === 200) {
            clearInterval(timer);
            finished = true;
            res.end('data: [DONE]\n\n');
          }
        }, 50);
        res.on('close', () => clearInterval(timer));
      });
      await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r));
      const { port } = upstream.address() as AddressInfo;
      await admin.createChannel({
        name: 'slow',
        type: 'openai',
        baseUrl: `http://127.0.0.1:${port}/v1`,
        credentials: { apiKey: 'sk-slow' },
        models: ['gpt-5'],
      });
    });

    afterEach(async () => {
      upstream.closeAllConnections();
      await new Promise((r) => upstream.close(r));
    });

    it('aborts the upstream request and records the request as cancelled, billing what was streamed', async () => {
      const controller = new AbortController();
      const res = await chat({ stream: true }, {});
      const reader = res.body!.getReader();
      await reader.read(); // the first bytes arrived
      await reader.read();
      const requestId = res.headers.get('x-request-id')!;
      await reader.cancel();
      controller.abort();
      expect(await closedEarly).toBe(true);
      const event = await usageEventOf(stack, requestId);
      expect(event).toMatchObject({ status: 'cancelled', httpStatus: 499, usageSource: 'estimated' });
      expect(event.outputTokens).toBeGreaterThan(0);
      expect(event.costMicroUsd).toBeGreaterThan(0);
    });
  });

  it('refuses bodies over MAX_BODY_BYTES with 413 and malformed JSON with 400, in the caller envelope', async () => {
    await admin.createChannel(openaiChannel(0));
    const big = await chat({ messages: [{ role: 'user', content: 'x'.repeat(70_000) }] });
    expect(big.status).toBe(413);
    expect(((await big.json()) as any).error.code).toBe('request_too_large');
    const bad = await fetch(`${stack.url}/v1/messages`, {
      method: 'POST',
      headers: { 'x-api-key': key, 'content-type': 'application/json' },
      body: '{"model": "claude-opus-4-7", ',
    });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as any).type).toBe('error');
    expect(bad.headers.get('x-torouter-overhead-ms')).not.toBeNull();
    expect(fakes[0].requests).toHaveLength(0);
  });
});
