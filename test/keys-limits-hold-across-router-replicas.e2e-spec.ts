import type { ApiKeyCreated } from '@torouter/contracts';
import {
  callJson,
  createTestAccount,
  startSecondRouter,
  type RouterProcess,
  type TestAccount,
} from './support/second-router';
import { startTestStack, type TestStack } from './support/test-stack';

/**
 * Two router replicas — the test stack's router (A, in this process, trusting X-Forwarded-For from
 * loopback) and a second router in its own OS process (B, listening dual-stack on `::`, trusting no
 * proxy) — on one Postgres, Redis and NATS: request windows are one count across both, and an edit,
 * disable or delete made through one is obeyed by the other on its very next request.
 */
describe('key limits hold across router replicas', () => {
  let stack: TestStack;
  let b: RouterProcess;
  let owner: TestAccount;

  const chatVia = (url: string, key: string, headers: Record<string, string> = {}) =>
    callJson(url, 'POST', '/v1/chat/completions', {
      headers: { authorization: `Bearer ${key}`, ...headers },
      body: { model: 'gpt-5', messages: [{ role: 'user', content: 'hi' }] },
    });
  const keysVia = (url: string, method: string, path = '', body?: unknown) =>
    callJson(url, method, `/api/v1/keys${path}`, { token: owner.token, body });
  const newKey = async (body: Record<string, unknown> = {}): Promise<ApiKeyCreated> => {
    const res = await keysVia(stack.url, 'POST', '', {
      name: 'replicas',
      quotaUsd: 0,
      expiresInDays: 0,
      rateLimits: { per5h: 0, per1d: 0, per7d: 0, rpm: 0, tpm: 0 },
      ...body,
    });
    expect(res.status).toBe(201);
    return res.body as ApiKeyCreated;
  };

  beforeAll(async () => {
    stack = await startTestStack({ env: { TRUSTED_PROXIES: '127.0.0.1/32' } });
    [b, owner] = await Promise.all([
      startSecondRouter(stack, { HOST: '::', TRUSTED_PROXIES: '' }),
      createTestAccount(stack),
    ]);
  }, 120_000);

  afterAll(async () => {
    await b?.close();
    await stack?.close();
  });

  it('runs B as a separate process', () => {
    expect(b.pid).not.toBe(process.pid);
    expect(b.url).not.toBe(stack.url);
  });

  it('shares one request window between the replicas', async () => {
    const k = await newKey({ rateLimits: { rpm: 3, per1d: 10 } });
    expect((await chatVia(stack.url, k.key)).status).toBe(200);
    expect((await chatVia(b.url, k.key)).status).toBe(200);
    const third = await chatVia(stack.url, k.key);
    expect(third.status).toBe(200);
    expect(third.headers.get('x-ratelimit-remaining-requests')).toBe('0');
    for (const url of [b.url, stack.url]) {
      const refused = await chatVia(url, k.key);
      expect(refused.status).toBe(429);
      expect(refused.body.error.code).toBe('RATE_LIMIT_EXCEEDED');
      expect(Number(refused.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    }
    const own = await callJson(b.url, 'GET', '/api/v1/key', { headers: { 'x-api-key': k.key } });
    expect(own.body.windows).toMatchObject({
      rpm: { used: 3, remaining: 0 },
      per1d: { used: 3, remaining: 7 },
    });
  });

  it('obeys a delete made through the other replica on the next request', async () => {
    const k = await newKey();
    // both replicas have the key's policy cached
    expect((await chatVia(stack.url, k.key)).status).toBe(200);
    expect((await chatVia(b.url, k.key)).status).toBe(200);
    expect((await keysVia(stack.url, 'DELETE', `/${k.id}`)).status).toBe(204);
    const onB = await chatVia(b.url, k.key);
    expect(onB.status).toBe(401);
    expect(onB.body.error.code).toBe('INVALID_API_KEY');
    expect((await chatVia(stack.url, k.key)).body.error.code).toBe('INVALID_API_KEY');
  });

  it('obeys a disable and a new IP list made through the other replica on the next request', async () => {
    const k = await newKey();
    expect((await chatVia(stack.url, k.key)).status).toBe(200);
    expect((await chatVia(b.url, k.key)).status).toBe(200);

    expect((await keysVia(b.url, 'PATCH', `/${k.id}`, { status: 'disabled' })).status).toBe(200);
    expect((await chatVia(stack.url, k.key)).body.error.code).toBe('API_KEY_DISABLED');
    expect((await chatVia(b.url, k.key)).body.error.code).toBe('API_KEY_DISABLED');

    expect(
      (await keysVia(stack.url, 'PATCH', `/${k.id}`, { status: 'active', ipBlacklist: '127.0.0.0/8' }))
        .status,
    ).toBe(200);
    const onB = await chatVia(b.url, k.key);
    expect(onB.status).toBe(403);
    expect(onB.body.error.code).toBe('ACCESS_DENIED');
    expect(onB.body.error.message).toContain('127.0.0.1');
  });

  it('believes X-Forwarded-For only from TRUSTED_PROXIES', async () => {
    const k = await newKey({ ipWhitelist: '203.0.113.0/24' });
    const spoofed = { 'x-forwarded-for': '203.0.113.5' };
    // A trusts its loopback peer as a proxy: the forwarded address is the client
    expect((await chatVia(stack.url, k.key, spoofed)).status).toBe(200);
    // B trusts nobody: the header is ignored and the peer (127.0.0.1) is outside the whitelist
    const onB = await chatVia(b.url, k.key, spoofed);
    expect(onB.status).toBe(403);
    expect(onB.body.error.code).toBe('ACCESS_DENIED');
    expect(onB.body.error.message).toContain('127.0.0.1');
  });

  it('matches ::ffff:a.b.c.d peers of a dual-stack listener against IPv4 rules, and IPv6 peers against IPv6 rules', async () => {
    const v4Only = await newKey({ ipWhitelist: '127.0.0.1' });
    // B listens on '::': an IPv4 client shows up as ::ffff:127.0.0.1
    expect((await chatVia(b.url, v4Only.key)).status).toBe(200);
    const blocked = await newKey({ ipBlacklist: '127.0.0.0/8' });
    expect((await chatVia(b.url, blocked.key)).body.error.code).toBe('ACCESS_DENIED');

    const v6Url = b.url.replace('127.0.0.1', '[::1]');
    const v6Only = await newKey({ ipWhitelist: '::1/128' });
    expect((await chatVia(v6Url, v6Only.key)).status).toBe(200);
    expect((await chatVia(b.url, v6Only.key)).body.error.code).toBe('ACCESS_DENIED');
  });
});
