import { loadConfig, routerEnvSchema } from '@torouter/config';
import OpenAI from 'openai';
import { Client } from 'pg';
import { startRouter, type RunningRouter } from '../apps/router/src/router.app';
import { startFakeUpstream, type FakeUpstream } from '../libs/testing/src/fake-upstreams';
import { adminClient, creditAccount, eventually, usageEventOf } from './router-test-helpers';
import { startTestStack, type TestStack } from './support/test-stack';

/**
 * The admin side of routing: channels and models through /api/v1/admin, credentials encrypted at rest and
 * never returned, base URLs refused when they point inside the network (SSRF) — when saved and when
 * connecting — channel tests, and catalog changes that every router replica obeys on its next request.
 */
describe('admin channels and catalog', () => {
  let stack: TestStack;
  let fake: FakeUpstream;
  let other: FakeUpstream;
  let strict: RunningRouter;
  let replica: RunningRouter;
  const admin = () => adminClient(stack);

  beforeAll(async () => {
    [stack, fake, other] = await Promise.all([
      startTestStack(),
      startFakeUpstream('openai'),
      startFakeUpstream('openai'),
    ]);
    await creditAccount(stack, stack.demo!.account.id, 100);
    await admin().disableAllChannels();
    // Two more replicas of the same deployment: one as permissive as the test stack, one that refuses
    // private upstreams (the production default).
    replica = await startRouter(loadConfig(routerEnvSchema, stack.env));
    strict = await startRouter(
      loadConfig(routerEnvSchema, { ...stack.env, ALLOW_PRIVATE_UPSTREAMS: 'false' }),
    );
  });

  afterAll(async () => {
    await Promise.all([strict?.close(), replica?.close()]);
    await Promise.all([stack?.close(), fake?.close(), other?.close()]);
  });

  beforeEach(async () => {
    await admin().deleteAllChannels();
    fake.reset();
    other.reset();
  });

  /** The models a replica lists for the demo key: what it can route right now. */
  const fetchModels = async (url: string): Promise<string[]> => {
    const res = await fetch(`${url}/v1/models`, {
      headers: { authorization: `Bearer ${stack.demo!.apiKey!.key}` },
    });
    return ((await res.json()) as { data: Array<{ id: string }> }).data.map((m) => m.id);
  };

  const chat = (baseUrl: string) =>
    new OpenAI({
      apiKey: stack.demo!.apiKey!.key,
      baseURL: `${baseUrl}/v1`,
      maxRetries: 0,
    }).chat.completions.create({
      model: 'gpt-5',
      messages: [{ role: 'user', content: 'hi' }],
    });

  it('requires the admin token', async () => {
    const res = await fetch(`${stack.url}/api/v1/admin/channels`);
    expect(res.status).toBe(401);
    expect(await res.json()).toMatchObject({ error: { code: 'unauthorized' } });
  });

  it('stores credentials encrypted (AES-256-GCM) and never returns them', async () => {
    const created = await admin().createChannel({
      name: 'secret-keeper',
      type: 'openai',
      baseUrl: fake.baseUrl,
      credentials: { apiKey: 'sk-very-secret-upstream-key-123' },
      models: ['gpt-5'],
    });
    expect(created).toMatchObject({
      name: 'secret-keeper',
      hasCredentials: true,
      health: { status: 'healthy' },
    });
    const listing = JSON.stringify(await admin().listChannels());
    expect(listing).not.toContain('sk-very-secret-upstream-key-123');
    expect(JSON.stringify(await admin().channel(created.id))).not.toContain('sk-very-secret');

    const db = new Client({ connectionString: stack.databaseUrl });
    await db.connect();
    try {
      const { rows } = await db.query<{ credentials_encrypted: string }>(
        'SELECT credentials_encrypted FROM router.channels WHERE id = $1',
        [created.id],
      );
      expect(rows[0].credentials_encrypted).toMatch(/^v1:[\w-]+:[\w-]+:[\w-]+$/);
      expect(rows[0].credentials_encrypted).not.toContain('sk-very-secret');
    } finally {
      await db.end();
    }
    // …yet the router uses them.
    await chat(stack.url);
    expect(fake.requests[0].headers.authorization).toBe('Bearer sk-very-secret-upstream-key-123');
  });

  it('validates channels, naming the field', async () => {
    const cases: Array<[unknown, string]> = [
      [{ name: 'x', type: 'openai', models: ['gpt-5'] }, 'credentials'],
      [{ name: 'x', type: 'nope', models: [], credentials: { apiKey: 'k' } }, 'type'],
      [{ name: 'x', type: 'openai-compatible', models: [], credentials: { apiKey: 'k' } }, 'baseUrl'],
      [{ name: 'x', type: 'bedrock', models: [], credentials: { apiKey: 'k' } }, 'credentials'],
      [{ name: 'x', type: 'openai', models: [], credentials: { apiKey: 'k' }, weight: -1 }, 'weight'],
      [
        { name: 'x', type: 'openai', models: [], credentials: { apiKey: 'k' }, baseUrl: 'ftp://example.com' },
        'baseUrl',
      ],
    ];
    for (const [body, field] of cases) {
      const res = await admin().call('POST', '/api/v1/admin/channels', body);
      expect(res.status).toBe(400);
      expect(res.body.error.code).toBe('validation_failed');
      expect(res.body.error.message).toContain(field);
    }
    await admin().createChannel({ name: 'dup', type: 'openai', credentials: { apiKey: 'k' }, models: [] });
    const dup = await admin().call('POST', '/api/v1/admin/channels', {
      name: 'dup',
      type: 'openai',
      credentials: { apiKey: 'k' },
      models: [],
    });
    expect(dup.status).toBe(409);
    expect((await admin().call('GET', '/api/v1/admin/channels/not-a-uuid')).status).toBe(404);
  });

  it('refuses loopback, private and link-local base URLs unless ALLOW_PRIVATE_UPSTREAMS', async () => {
    const strictAdmin = adminClient({ ...stack, url: strict.url });
    for (const baseUrl of [
      'http://127.0.0.1:9/v1',
      'http://localhost:9/v1',
      'http://10.1.2.3/v1',
      'http://192.168.0.10/v1',
      'http://169.254.169.254/latest',
      'http://[::1]:9/v1',
      'http://[fd00::1]/v1',
      'http://[::ffff:127.0.0.1]/v1',
    ]) {
      const res = await strictAdmin.call('POST', '/api/v1/admin/channels', {
        name: `ssrf-${baseUrl}`,
        type: 'openai-compatible',
        baseUrl,
        credentials: { apiKey: 'k' },
        models: ['gpt-5'],
      });
      expect({ baseUrl, status: res.status }).toEqual({ baseUrl, status: 400 });
      expect(res.body.error.message).toContain('baseUrl');
    }
  });

  it('refuses to connect to a private upstream at request time too (a replica with the guard on)', async () => {
    // Saved through a permissive replica; the strict replica must still never connect to it.
    await admin().createChannel({
      name: 'inside',
      type: 'openai',
      baseUrl: fake.baseUrl,
      credentials: { apiKey: 'k' },
      models: ['gpt-5'],
    });
    await eventually(async () => ((await fetchModels(strict.url)).includes('gpt-5') ? true : undefined));
    const err = await chat(strict.url).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.APIError);
    expect((err as InstanceType<typeof OpenAI.APIError>).status).toBe(502);
    expect(fake.requests).toHaveLength(0);
  });

  it('applies channel changes on every replica at the next request', async () => {
    const a = await admin().createChannel({
      name: 'first',
      type: 'openai',
      baseUrl: fake.baseUrl,
      credentials: { apiKey: 'k1' },
      models: ['gpt-5'],
    });
    await eventually(async () => ((await fetchModels(replica.url)).includes('gpt-5') ? true : undefined));
    await chat(replica.url);
    expect(fake.requests).toHaveLength(1);
    await admin().updateChannel(a.id, { baseUrl: other.baseUrl, credentials: { apiKey: 'k2' } });
    // The change is broadcast: the other replica routes to the new URL with the new key.
    await eventually(async () => {
      await chat(replica.url);
      return other.requests.length > 0 ? true : undefined;
    });
    expect(other.requests.at(-1)!.headers.authorization).toBe('Bearer k2');
    await admin().updateChannel(a.id, { enabled: false });
    await eventually(async () => ((await fetchModels(replica.url)).includes('gpt-5') ? undefined : true));
  });

  it('tests a channel: latency on success, the upstream error otherwise', async () => {
    const ch = await admin().createChannel({
      name: 'tested',
      type: 'openai',
      baseUrl: fake.baseUrl,
      credentials: { apiKey: 'k' },
      models: ['gpt-5'],
      modelMapping: { 'gpt-5': 'gpt-4o' },
    });
    const ok = await admin().call('POST', `/api/v1/admin/channels/${ch.id}/test`);
    expect(ok.status).toBe(200);
    expect(ok.body).toMatchObject({ ok: true, model: 'gpt-5', status: 200, error: null });
    expect(ok.body.latencyMs).toEqual(expect.any(Number));
    expect(fake.requests[0].json).toMatchObject({ model: 'gpt-4o' });

    fake.setBehavior({ error: { status: 401, message: 'Incorrect API key provided' } });
    const bad = await admin().call('POST', `/api/v1/admin/channels/${ch.id}/test`);
    expect(bad.body).toMatchObject({
      ok: false,
      status: 401,
      error: { message: 'Incorrect API key provided' },
    });
    expect((await admin().channel(ch.id)).health.status).toBe('unhealthy');
  });

  describe('models', () => {
    it('adds a priced model, reprices it, and removes it; requests follow at once', async () => {
      await admin().createChannel({
        name: 'for-models',
        type: 'openai',
        baseUrl: fake.baseUrl,
        credentials: { apiKey: 'k' },
        models: ['acme-1'],
      });
      const created = await admin().call('POST', '/api/v1/admin/models', {
        id: 'acme-1',
        vendor: 'acme',
        modality: 'text',
        inputUsdPerMTok: '2.5',
        outputUsdPerMTok: 10,
        cacheReadUsdPerMTok: 0.25,
        contextWindow: 128000,
        maxOutputTokens: 4096,
      });
      expect(created.status).toBe(201);
      expect(created.body).toMatchObject({
        id: 'acme-1',
        inputUsdPerMTok: 2.5,
        outputUsdPerMTok: 10,
        cacheReadUsdPerMTok: 0.25,
      });
      const catalog = (await (await fetch(`${stack.url}/api/v1/catalog/models`)).json()) as {
        data: Array<{ id: string }>;
      };
      expect(catalog.data.map((m) => m.id)).toContain('acme-1');

      fake.setBehavior({ usage: { inputTokens: 1000, outputTokens: 100 } });
      const client = new OpenAI({
        apiKey: stack.demo!.apiKey!.key,
        baseURL: `${stack.url}/v1`,
        maxRetries: 0,
      });
      const first = await client.chat.completions
        .create({ model: 'acme-1', messages: [{ role: 'user', content: 'x' }] })
        .withResponse();
      expect((await usageEventOf(stack, first.response.headers.get('x-request-id')!)).costMicroUsd).toBe(
        2500 + 1000,
      );

      const repriced = await admin().call('PATCH', '/api/v1/admin/models/acme-1', { outputUsdPerMTok: 20 });
      expect(repriced.body.outputUsdPerMTok).toBe(20);
      const second = await client.chat.completions
        .create({ model: 'acme-1', messages: [{ role: 'user', content: 'x' }] })
        .withResponse();
      const event = await usageEventOf(stack, second.response.headers.get('x-request-id')!);
      expect(event.costMicroUsd).toBe(2500 + 2000);
      expect(event.price).toMatchObject({ input: 2_500_000, output: 20_000_000, cacheRead: 250_000 });

      const invalid = await admin().call('POST', '/api/v1/admin/models', {
        id: 'x',
        vendor: 'v',
        modality: 'text',
        inputUsdPerMTok: '0.0000001',
        outputUsdPerMTok: 1,
      });
      expect(invalid.status).toBe(400);
      expect(invalid.body.error.message).toContain('inputUsdPerMTok');

      expect((await admin().call('DELETE', '/api/v1/admin/models/acme-1')).status).toBe(204);
      const gone = await client.chat.completions
        .create({ model: 'acme-1', messages: [{ role: 'user', content: 'x' }] })
        .catch((e: unknown) => e);
      expect((gone as InstanceType<typeof OpenAI.APIError>).status).toBe(404);
    });
  });
});
