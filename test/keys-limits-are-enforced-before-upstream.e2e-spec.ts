import Anthropic from '@anthropic-ai/sdk';
import { ApiError as GeminiApiError, GoogleGenAI } from '@google/genai';
import { Subjects, type ApiKeyCreated } from '@torouter/contracts';
import { RpcClient } from '@torouter/messaging';
import OpenAI from 'openai';
import { startFakeUpstream, type FakeUpstream } from '../libs/testing/src/fake-upstreams';
import { callJson, createTestAccount, type TestAccount } from './support/second-router';
import { startTestStack, type TestStack } from './support/test-stack';

type Surface = 'openai' | 'anthropic' | 'gemini';

interface Refusal {
  status: number;
  /** The gateway code as the caller's envelope carries it. */
  code: string;
  headers: Record<string, string>;
}

/**
 * Every key check of DECISIONS.md through the real router and the official OpenAI, Anthropic and Google
 * SDKs, against fake upstreams that record every request: each refusal carries the right status and code
 * in the caller's envelope, comes in DECISIONS.md's order, and never reaches an upstream or a window.
 * The router believes X-Forwarded-For from loopback (TRUSTED_PROXIES), so tests choose the client IP.
 */
describe('key limits are enforced before any upstream call', () => {
  let stack: TestStack;
  let rpc: RpcClient;
  let owner: TestAccount;
  const fakes = {} as Record<Surface, FakeUpstream>;
  const model: Record<Surface, string> = {
    openai: 'gpt-5',
    anthropic: 'claude-opus-4-7',
    gemini: 'gemini-2.5-pro',
  };

  const upstreamCalls = () =>
    fakes.openai.requests.length + fakes.anthropic.requests.length + fakes.gemini.requests.length;

  async function newKey(settings: Record<string, unknown> = {}): Promise<ApiKeyCreated> {
    const res = await callJson(stack.url, 'POST', '/api/v1/keys', {
      token: owner.token,
      body: {
        name: 'e2e',
        quotaUsd: 0,
        expiresInDays: 0,
        rateLimits: { per5h: 0, per1d: 0, per7d: 0, rpm: 0, tpm: 0 },
        ...settings,
      },
    });
    if (res.status !== 201) throw new Error(`create key: ${res.status} ${JSON.stringify(res.body)}`);
    return res.body as ApiKeyCreated;
  }

  const patchKey = async (id: string, patch: Record<string, unknown>) => {
    const res = await callJson(stack.url, 'PATCH', `/api/v1/keys/${id}`, { token: owner.token, body: patch });
    expect(res.status).toBe(200);
  };

  const ipHeaders = (ip?: string): Record<string, string> => (ip ? { 'x-forwarded-for': ip } : {});

  /** One request with the surface's official SDK; resolves to 'ok' or the refusal it got. */
  async function callWithSdk(
    surface: Surface,
    key: string,
    opts: { ip?: string; model?: string; maxTokens?: number; prompt?: string } = {},
  ): Promise<'ok' | Refusal> {
    const m = opts.model ?? model[surface];
    const prompt = opts.prompt ?? 'hello';
    try {
      if (surface === 'openai') {
        const client = new OpenAI({
          apiKey: key,
          baseURL: `${stack.url}/v1`,
          maxRetries: 0,
          defaultHeaders: ipHeaders(opts.ip),
        });
        await client.chat.completions.create({
          model: m,
          messages: [{ role: 'user', content: prompt }],
          ...(opts.maxTokens ? { max_tokens: opts.maxTokens } : {}),
        });
      } else if (surface === 'anthropic') {
        const client = new Anthropic({
          apiKey: key,
          baseURL: stack.url,
          maxRetries: 0,
          defaultHeaders: ipHeaders(opts.ip),
        });
        await client.messages.create({
          model: m,
          max_tokens: opts.maxTokens ?? 64,
          messages: [{ role: 'user', content: prompt }],
        });
      } else {
        const client = new GoogleGenAI({
          apiKey: key,
          httpOptions: { baseUrl: stack.url, headers: ipHeaders(opts.ip) }, // no retryOptions: no retries
        });
        await client.models.generateContent({
          model: m,
          contents: prompt,
          ...(opts.maxTokens ? { config: { maxOutputTokens: opts.maxTokens } } : {}),
        });
      }
      return 'ok';
    } catch (e) {
      return refusalOf(surface, e);
    }
  }

  function refusalOf(surface: Surface, e: unknown): Refusal {
    if (surface === 'openai' && e instanceof OpenAI.APIError) {
      // OpenAI envelope: {"error":{"type":CODE,"code":CODE,"message","param":null}}
      const err = e.error as { type: string; code: string; param: unknown };
      expect(err.type).toBe(err.code);
      expect(err).toHaveProperty('param', null);
      return { status: e.status!, code: err.code, headers: Object.fromEntries(e.headers!.entries()) };
    }
    if (surface === 'anthropic' && e instanceof Anthropic.APIError) {
      // Anthropic envelope: {"type":"error","error":{"type":CODE,"message"}}
      const body = e.error as { type: string; error: { type: string; message: string } };
      expect(body.type).toBe('error');
      return { status: e.status!, code: body.error.type, headers: Object.fromEntries(e.headers!.entries()) };
    }
    if (surface === 'gemini' && e instanceof GeminiApiError) {
      // Gemini envelope: {"error":{"code":STATUS,"message":"[CODE] …","status":"PERMISSION_DENIED"|…}}
      const json = JSON.parse(e.message.slice(e.message.indexOf('{'))) as {
        error: { code: number; message: string; status: string };
      };
      expect(json.error.code).toBe(e.status);
      const expectedStatus: Record<number, string> = {
        400: 'INVALID_ARGUMENT',
        401: 'UNAUTHENTICATED',
        403: 'PERMISSION_DENIED',
        429: 'RESOURCE_EXHAUSTED',
      };
      if (expectedStatus[e.status]) expect(json.error.status).toBe(expectedStatus[e.status]);
      const code = /^\[([^\]]+)\]/.exec(json.error.message)![1];
      return { status: e.status, code, headers: {} };
    }
    throw new Error(
      `${surface}: unexpected ${(e as Error)?.constructor?.name}: ${String((e as Error)?.message ?? e)}`,
    );
  }

  /** Asserts the refusal on every surface and that no upstream saw any of the requests. */
  async function expectRefusedEverywhere(
    key: string,
    status: number,
    code: string,
    opts: { ip?: string; models?: Partial<Record<Surface, string>> } = {},
  ): Promise<void> {
    const before = upstreamCalls();
    for (const surface of ['openai', 'anthropic', 'gemini'] as const) {
      const got = await callWithSdk(surface, key, { ip: opts.ip, model: opts.models?.[surface] });
      expect({ surface, result: got === 'ok' ? 'ok' : { status: got.status, code: got.code } }).toEqual({
        surface,
        result: { status, code },
      });
    }
    expect(upstreamCalls()).toBe(before);
  }

  async function expectServed(
    surface: Surface,
    key: string,
    opts: { ip?: string; model?: string } = {},
  ): Promise<void> {
    const before = fakes[surface].requests.length;
    expect(await callWithSdk(surface, key, opts)).toBe('ok');
    expect(fakes[surface].requests.length).toBe(before + 1);
  }

  const ownKey = (key: string) =>
    callJson(stack.url, 'GET', '/api/v1/key', {
      headers: { authorization: `Bearer ${key}`, 'x-forwarded-for': '203.0.113.5' },
    });

  beforeAll(async () => {
    [stack, fakes.openai, fakes.anthropic, fakes.gemini] = await Promise.all([
      startTestStack({ env: { TRUSTED_PROXIES: '127.0.0.1/32, ::1/128' } }),
      startFakeUpstream('openai'),
      startFakeUpstream('anthropic'),
      startFakeUpstream('gemini'),
    ]);
    rpc = stack.rpc;
    owner = await createTestAccount(stack);
    const admin = (method: string, path: string, body?: unknown) =>
      callJson(stack.url, method, path, { token: stack.adminToken, body });
    for (const c of (await admin('GET', '/api/v1/admin/channels')).body.data as Array<{ id: string }>) {
      expect((await admin('PATCH', `/api/v1/admin/channels/${c.id}`, { enabled: false })).status).toBe(200);
    }
    const channels = [
      {
        name: 'fake-openai',
        type: 'openai',
        baseUrl: fakes.openai.baseUrl,
        credentials: { apiKey: 'sk-up-openai' },
        models: ['gpt-5', 'gpt-5-mini'],
      },
      {
        name: 'fake-anthropic',
        type: 'anthropic',
        baseUrl: fakes.anthropic.baseUrl,
        credentials: { apiKey: 'sk-up-ant' },
        models: ['claude-opus-4-7'],
      },
      {
        name: 'fake-gemini',
        type: 'gemini',
        baseUrl: fakes.gemini.baseUrl,
        credentials: { apiKey: 'up-gemini' },
        models: ['gemini-2.5-pro'],
      },
    ];
    for (const c of channels) {
      const res = await admin('POST', '/api/v1/admin/channels', c);
      if (res.status !== 201) throw new Error(`channel: ${res.status} ${JSON.stringify(res.body)}`);
    }
  });

  afterAll(async () => {
    await Promise.all([stack?.close(), ...Object.values(fakes).map((f) => f?.close())]);
  });

  beforeEach(() => Object.values(fakes).forEach((f) => f.reset()));

  describe('credentials', () => {
    it('accepts Bearer, x-api-key and x-goog-api-key on their SDKs, and ?key= on Gemini routes', async () => {
      const k = await newKey();
      await expectServed('openai', k.key);
      await expectServed('anthropic', k.key);
      await expectServed('gemini', k.key);
      const viaQuery = await callJson(
        stack.url,
        'POST',
        `/v1beta/models/gemini-2.5-pro:generateContent?key=${k.key}`,
        {
          body: { contents: [{ role: 'user', parts: [{ text: 'hi' }] }] },
        },
      );
      expect(viaQuery.status).toBe(200);
      // every header form works on every surface
      const crossed = await callJson(stack.url, 'POST', '/v1/chat/completions', {
        headers: { 'x-goog-api-key': k.key },
        body: { model: 'gpt-5', messages: [{ role: 'user', content: 'hi' }] },
      });
      expect(crossed.status).toBe(200);
    });

    it('refuses keys in query strings elsewhere with 400 api_key_in_query_deprecated, before any lookup', async () => {
      const k = await newKey();
      const before = upstreamCalls();
      const openaiQuery = await callJson(stack.url, 'POST', `/v1/chat/completions?key=${k.key}`, {
        body: { model: 'gpt-5', messages: [{ role: 'user', content: 'hi' }] },
      });
      expect(openaiQuery.status).toBe(400);
      expect(openaiQuery.body.error.code).toBe('api_key_in_query_deprecated');
      const geminiApiKey = await callJson(
        stack.url,
        'POST',
        `/v1beta/models/gemini-2.5-pro:generateContent?api_key=${k.key}`,
        {
          body: { contents: [{ role: 'user', parts: [{ text: 'hi' }] }] },
        },
      );
      expect(geminiApiKey.status).toBe(400);
      expect(geminiApiKey.body.error.status).toBe('INVALID_ARGUMENT');
      expect(geminiApiKey.body.error.message).toContain('api_key_in_query_deprecated');
      expect(upstreamCalls()).toBe(before);
    });

    it('answers 401 API_KEY_REQUIRED without a credential', async () => {
      const before = upstreamCalls();
      const res = await callJson(stack.url, 'POST', '/v1/messages', {
        headers: { 'anthropic-version': '2023-06-01' },
        body: { model: 'claude-opus-4-7', max_tokens: 10, messages: [{ role: 'user', content: 'hi' }] },
      });
      expect(res.status).toBe(401);
      expect(res.body).toEqual({
        type: 'error',
        error: { type: 'API_KEY_REQUIRED', message: expect.any(String) },
      });
      expect(upstreamCalls()).toBe(before);
    });

    it('answers 401 INVALID_API_KEY for a typo (checksum), an unknown key and a deleted key', async () => {
      const k = await newKey();
      const typo = k.key.slice(0, 10) + (k.key[10] === 'a' ? 'b' : 'a') + k.key.slice(11);
      await expectRefusedEverywhere(typo, 401, 'INVALID_API_KEY');
      await expectRefusedEverywhere('sk-not-a-real-key', 401, 'INVALID_API_KEY');
      expect(
        (await callJson(stack.url, 'DELETE', `/api/v1/keys/${k.id}`, { token: owner.token })).status,
      ).toBe(204);
      await expectRefusedEverywhere(k.key, 401, 'INVALID_API_KEY');
    });
  });

  describe('key and account state', () => {
    it('answers 401 API_KEY_DISABLED, then serves again once re-enabled', async () => {
      const k = await newKey();
      await patchKey(k.id, { status: 'disabled' });
      await expectRefusedEverywhere(k.key, 401, 'API_KEY_DISABLED');
      await patchKey(k.id, { status: 'active' });
      await expectServed('openai', k.key);
    });

    it('answers 401 API_KEY_EXPIRED past the expiry', async () => {
      const k = await newKey();
      await patchKey(k.id, { expiresAt: new Date(Date.now() - 60_000).toISOString() });
      await expectRefusedEverywhere(k.key, 401, 'API_KEY_EXPIRED');
    });

    it("answers 401 USER_INACTIVE while the key's account is suspended", async () => {
      const account = await createTestAccount(stack);
      const res = await callJson(stack.url, 'POST', '/api/v1/keys', {
        token: account.token,
        body: { name: 'x' },
      });
      const key = (res.body as ApiKeyCreated).key;
      await expectServed('openai', key);
      await rpc.send(Subjects.authAccountUpdate, { accountId: account.id, suspended: true });
      await expectRefusedEverywhere(key, 401, 'USER_INACTIVE');
      await rpc.send(Subjects.authAccountUpdate, { accountId: account.id, suspended: false });
      await expectServed('openai', key);
    });
  });

  describe('IP whitelist and blacklist', () => {
    it('with a whitelist, admits only addresses inside it (IPv4, IPv6, ::ffff:-mapped)', async () => {
      const k = await newKey({ ipWhitelist: '203.0.113.0/24\n2001:db8::/32' });
      await expectServed('openai', k.key, { ip: '203.0.113.5' });
      await expectServed('anthropic', k.key, { ip: '2001:db8:1::7' });
      await expectServed('gemini', k.key, { ip: '::ffff:203.0.113.200' });
      await expectRefusedEverywhere(k.key, 403, 'ACCESS_DENIED', { ip: '198.51.100.1' });
      await expectRefusedEverywhere(k.key, 403, 'ACCESS_DENIED', { ip: '2001:db9::1' });
      // no X-Forwarded-For: the loopback peer itself is outside the list
      await expectRefusedEverywhere(k.key, 403, 'ACCESS_DENIED');
    });

    it('with a blacklist, refuses only addresses inside it', async () => {
      const k = await newKey({ ipBlacklist: ['198.51.100.0/24', '2001:db8:bad::/48'] });
      await expectServed('openai', k.key, { ip: '203.0.113.5' });
      await expectRefusedEverywhere(k.key, 403, 'ACCESS_DENIED', { ip: '198.51.100.77' });
      await expectRefusedEverywhere(k.key, 403, 'ACCESS_DENIED', { ip: '::ffff:198.51.100.77' });
      await expectRefusedEverywhere(k.key, 403, 'ACCESS_DENIED', { ip: '2001:db8:bad::1' });
      await expectServed('openai', k.key, { ip: '2001:db8:beef::1' });
    });

    it('with both, needs inside the whitelist and outside the blacklist; edits apply on the next request', async () => {
      const k = await newKey({ ipWhitelist: '203.0.113.0/24', ipBlacklist: '203.0.113.66' });
      await expectServed('openai', k.key, { ip: '203.0.113.65' });
      await expectRefusedEverywhere(k.key, 403, 'ACCESS_DENIED', { ip: '203.0.113.66' });
      await expectRefusedEverywhere(k.key, 403, 'ACCESS_DENIED', { ip: '192.0.2.1' });
      await patchKey(k.id, { ipBlacklist: '' });
      await expectServed('openai', k.key, { ip: '203.0.113.66' });
      await patchKey(k.id, { ipWhitelist: [] });
      await expectServed('openai', k.key, { ip: '192.0.2.1' });
    });
  });

  describe('model whitelist', () => {
    it('matches literally; vendor prefixes are distinct; -thinking is stripped', async () => {
      const k = await newKey({ modelWhitelist: 'gpt-5, anthropic/claude-opus-4-7, gemini-2.5-pro' });
      await expectServed('openai', k.key, { model: 'gpt-5' });
      await expectServed('openai', k.key, { model: 'gpt-5-thinking' });
      await expectServed('gemini', k.key);
      await expectRefusedEverywhere(k.key, 403, 'model_not_allowed', {
        models: { openai: 'gpt-5-mini', anthropic: 'claude-opus-4-7', gemini: 'gpt-5-mini' },
      });
      await expectRefusedEverywhere(k.key, 403, 'model_not_allowed', {
        models: {
          openai: 'openai/gpt-5',
          anthropic: 'claude-opus-4-7-thinking',
          gemini: 'claude-opus-4-7-thinking',
        },
      });
      // the prefixed entry lets the prefixed id through the key check (what serves it is routing's business)
      const prefixed = await callWithSdk('anthropic', k.key, { model: 'anthropic/claude-opus-4-7' });
      expect(prefixed === 'ok' ? 'ok' : prefixed.code).not.toBe('model_not_allowed');
    });
  });

  describe('request windows, RPM and TPM', () => {
    it('refuses the request over RPM with 429, Retry-After and x-ratelimit-*, without calling upstream', async () => {
      const k = await newKey({ rateLimits: { rpm: 2 } });
      const client = new OpenAI({ apiKey: k.key, baseURL: `${stack.url}/v1`, maxRetries: 0 });
      const first = await client.chat.completions
        .create({ model: 'gpt-5', messages: [{ role: 'user', content: 'one' }] })
        .withResponse();
      expect(first.response.headers.get('x-ratelimit-limit-requests')).toBe('2');
      expect(first.response.headers.get('x-ratelimit-remaining-requests')).toBe('1');
      expect(first.response.headers.get('x-ratelimit-reset-requests')).toMatch(/^(\d+m)?\d+s$|^\d+ms$/);
      await expectServed('openai', k.key);
      const before = upstreamCalls();
      for (const surface of ['openai', 'anthropic', 'gemini'] as const) {
        const got = await callWithSdk(surface, k.key);
        expect(got).toMatchObject({ status: 429, code: 'RATE_LIMIT_EXCEEDED' });
        if (surface !== 'gemini') {
          const { headers } = got as Refusal;
          const retryAfter = Number(headers['retry-after']);
          expect(retryAfter).toBeGreaterThanOrEqual(1);
          expect(retryAfter).toBeLessThanOrEqual(61);
          expect(Number(headers['retry-after-ms'])).toBeLessThanOrEqual(61_000);
          expect(headers['x-ratelimit-limit-requests']).toBe('2');
          expect(headers['x-ratelimit-remaining-requests']).toBe('0');
          expect(headers['x-ratelimit-reset-requests']).toBeDefined();
        }
      }
      expect(upstreamCalls()).toBe(before);
      // refused requests were not counted
      expect((await ownKey(k.key)).body.windows.rpm).toMatchObject({ limit: 2, used: 2, remaining: 0 });
    });

    it('enforces the 5 h / 24 h / 7 d windows with a Retry-After until a slot frees', async () => {
      const k = await newKey({ rateLimits: { per5h: 1, per1d: 5, per7d: 10 } });
      await expectServed('openai', k.key);
      const got = (await callWithSdk('openai', k.key)) as Refusal;
      expect(got).toMatchObject({ status: 429, code: 'RATE_LIMIT_EXCEEDED' });
      const retryAfter = Number(got.headers['retry-after']);
      expect(retryAfter).toBeGreaterThan(5 * 3600 - 60);
      expect(retryAfter).toBeLessThanOrEqual(5 * 3600 + 5 * 60);
      const windows = (await ownKey(k.key)).body.windows;
      expect(windows).toMatchObject({
        per5h: { used: 1 },
        per1d: { used: 1 },
        per7d: { used: 1 },
        rpm: null,
      });
    });

    it('counts tokens for TPM: reserves input + max_tokens, then keeps what the upstream reported', async () => {
      fakes.openai.setBehavior({ usage: { inputTokens: 7, outputTokens: 5 } });
      const k = await newKey({ rateLimits: { tpm: 100 } });
      const client = new OpenAI({ apiKey: k.key, baseURL: `${stack.url}/v1`, maxRetries: 0 });
      const res = await client.chat.completions
        .create({ model: 'gpt-5', max_tokens: 50, messages: [{ role: 'user', content: 'count me' }] })
        .withResponse();
      expect(res.response.headers.get('x-ratelimit-limit-tokens')).toBe('100');
      expect(Number(res.response.headers.get('x-ratelimit-remaining-tokens'))).toBeLessThanOrEqual(50);
      expect((await ownKey(k.key)).body.windows.tpm).toMatchObject({ limit: 100, used: 12 });

      // a request whose input alone exceeds the limit can never fit: 429 without Retry-After
      const before = upstreamCalls();
      const huge = (await callWithSdk('openai', k.key, { prompt: 'x '.repeat(600) })) as Refusal;
      expect(huge).toMatchObject({ status: 429, code: 'RATE_LIMIT_EXCEEDED' });
      expect(huge.headers['retry-after']).toBeUndefined();
      expect(huge.headers['x-ratelimit-limit-tokens']).toBe('100');
      expect(upstreamCalls()).toBe(before);
      expect((await ownKey(k.key)).body.windows.tpm.used).toBe(12);
    });
  });

  describe("DECISIONS.md's order of checks", () => {
    it('key state before account state before IP before model before windows', async () => {
      const account = await createTestAccount(stack);
      const created = await callJson(stack.url, 'POST', '/api/v1/keys', {
        token: account.token,
        body: {
          name: 'order',
          ipWhitelist: '203.0.113.0/24',
          modelWhitelist: 'gpt-5',
          rateLimits: { rpm: 1 },
        },
      });
      const k = created.body as ApiKeyCreated;
      const patch = (p: Record<string, unknown>) =>
        callJson(stack.url, 'PATCH', `/api/v1/keys/${k.id}`, { token: account.token, body: p });

      // fill the RPM window with one admitted request
      await expectServed('openai', k.key, { ip: '203.0.113.1' });
      const bad = {
        ip: '198.51.100.1',
        models: { openai: 'gpt-5-mini', anthropic: 'claude-opus-4-7', gemini: 'gemini-2.5-pro' },
      };

      await patch({ status: 'disabled' });
      await rpc.send(Subjects.authAccountUpdate, { accountId: account.id, suspended: true });
      await expectRefusedEverywhere(k.key, 401, 'API_KEY_DISABLED', bad);
      await patch({ status: 'active' });
      await expectRefusedEverywhere(k.key, 401, 'USER_INACTIVE', bad);
      await rpc.send(Subjects.authAccountUpdate, { accountId: account.id, suspended: false });
      await expectRefusedEverywhere(k.key, 403, 'ACCESS_DENIED', bad);
      // IP before model even when the model is unknown to the catalog (404 only once the IP passes)
      const unknownModel = { openai: 'no-such-model', anthropic: 'no-such-model', gemini: 'no-such-model' };
      await expectRefusedEverywhere(k.key, 403, 'ACCESS_DENIED', { ...bad, models: unknownModel });
      await expectRefusedEverywhere(k.key, 404, 'model_not_found', {
        ip: '203.0.113.1',
        models: unknownModel,
      });
      await expectRefusedEverywhere(k.key, 403, 'model_not_allowed', { ...bad, ip: '203.0.113.1' });
      await expectRefusedEverywhere(k.key, 429, 'RATE_LIMIT_EXCEEDED', {
        ip: '203.0.113.1',
        models: { openai: 'gpt-5', anthropic: 'gpt-5', gemini: 'gpt-5' },
      });
      // none of the refusals counted in the window
      const windows = (
        await callJson(stack.url, 'GET', '/api/v1/key', {
          headers: { 'x-api-key': k.key, 'x-forwarded-for': '203.0.113.1' },
        })
      ).body.windows;
      expect(windows.rpm.used).toBe(1);
    });
  });
});
