import { type UsageLogsPage, type UsageLogView, type UsageSummary } from '@torouter/contracts';
import { usdToMicro } from '@torouter/money';
import { signSessionToken } from '@torouter/session-token';
import { parseSse } from '@torouter/testing';
import { startTestStack, type TestStack } from './support/test-stack';

/**
 * End to end: real requests through the router's data plane (the built-in demo channel) publish usage
 * events to JetStream, and the usage service turns them into the rows, summaries and dashboard the
 * account sees — with the tokens and cost the client was told.
 */
describe('requests through the router show up in the usage log', () => {
  let stack: TestStack;
  let key: string;
  let session: string;

  beforeAll(async () => {
    stack = await startTestStack();
    key = stack.demo!.apiKey!.key;
    session = await signSessionToken(
      { sub: stack.demo!.account.id, role: 'user', epoch: 0 },
      stack.env.TOROUTER_SECRET,
    );
  });

  afterAll(async () => {
    await stack?.close();
  });

  const post = (path: string, body: unknown, headers: Record<string, string>) =>
    fetch(`${stack.url}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify(body),
    });

  const rowFor = async (requestId: string): Promise<UsageLogView> => {
    const deadline = Date.now() + 5000;
    for (;;) {
      const res = await fetch(`${stack.url}/api/v1/usage/logs?limit=200`, {
        headers: { authorization: `Bearer ${session}` },
      });
      const page = (await res.json()) as UsageLogsPage;
      const row = page.data.find((r) => r.requestId === requestId);
      if (row) return row;
      if (Date.now() > deadline) throw new Error(`no usage row for ${requestId} within 5 s of the response`);
      await new Promise((r) => setTimeout(r, 50));
    }
  };

  it('logs an OpenAI completion with the tokens and cost the response reported', async () => {
    const res = await post(
      '/v1/chat/completions',
      { model: 'gpt-5', messages: [{ role: 'user', content: 'Count my tokens' }] },
      { authorization: `Bearer ${key}` },
    );
    expect(res.status).toBe(200);
    const requestId = res.headers.get('x-request-id')!;
    const body = (await res.json()) as {
      usage: { prompt_tokens: number; completion_tokens: number; cost: number };
    };
    const row = await rowFor(requestId);
    expect(row).toMatchObject({
      requestId,
      keyId: stack.demo!.apiKey!.id,
      keyName: 'demo',
      model: 'gpt-5',
      channelName: 'demo',
      endpoint: expect.stringContaining('/chat/completions'),
      status: 'success',
      stream: false,
      outputTokens: body.usage.completion_tokens,
    });
    expect(row.inputTokens + row.cacheReadTokens + row.cacheWrite5mTokens + row.cacheWrite1hTokens).toBe(
      body.usage.prompt_tokens,
    );
    expect(usdToMicro(row.costUsd)).toBe(usdToMicro(body.usage.cost));
  });

  it('logs a stream with its time to first token, and an Anthropic call under its own endpoint', async () => {
    const streamed = await post(
      '/v1/chat/completions',
      {
        model: 'gpt-5',
        stream: true,
        stream_options: { include_usage: true },
        messages: [{ role: 'user', content: 'Stream please' }],
      },
      { authorization: `Bearer ${key}` },
    );
    const streamId = streamed.headers.get('x-request-id')!;
    const chunks = parseSse(await streamed.text())
      .filter((e) => e.data !== '[DONE]')
      .map((e) => JSON.parse(e.data) as { usage?: { completion_tokens: number } });
    const streamRow = await rowFor(streamId);
    expect(streamRow.stream).toBe(true);
    expect(streamRow.ttftMs).not.toBeNull();
    expect(streamRow.outputTokens).toBe(chunks.at(-1)!.usage!.completion_tokens);

    const anthropic = await post(
      '/v1/messages',
      { model: 'claude-opus-4-7', max_tokens: 64, messages: [{ role: 'user', content: 'Hi' }] },
      { 'x-api-key': key, 'anthropic-version': '2023-06-01' },
    );
    expect(anthropic.status).toBe(200);
    const row = await rowFor(anthropic.headers.get('x-request-id')!);
    expect(row).toMatchObject({ model: 'claude-opus-4-7', endpoint: expect.stringContaining('/messages') });
  });

  it('adds the summary up to the logged requests', async () => {
    const logs = (await (
      await fetch(`${stack.url}/api/v1/usage/logs?limit=200`, {
        headers: { authorization: `Bearer ${session}` },
      })
    ).json()) as UsageLogsPage;
    const summary = (await (
      await fetch(`${stack.url}/api/v1/usage/summary?groupBy=model`, {
        headers: { authorization: `Bearer ${session}` },
      })
    ).json()) as UsageSummary;
    expect(summary.totals.requests).toBe(logs.data.filter((r) => r.status === 'success').length);
    expect(usdToMicro(summary.totals.costUsd)).toBe(logs.data.reduce((s, r) => s + usdToMicro(r.costUsd), 0));
    expect(summary.groups.map((g) => g.key).sort()).toEqual(['claude-opus-4-7', 'gpt-5']);
  });
});
