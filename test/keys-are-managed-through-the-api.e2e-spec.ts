import { hashApiKey, isWellFormedApiKey } from '@torouter/api-key-format';
import { Subjects, type ApiKeyCreated, type ApiKeyView, type PlanView } from '@torouter/contracts';
import { RpcClient } from '@torouter/messaging';
import { Client } from 'pg';
import { callJson, createTestAccount, eventually, type TestAccount } from './support/second-router';
import { startTestStack, type TestStack } from './support/test-stack';

/**
 * /api/v1/keys and /api/v1/key through the real router, keys, auth and billing services: the secret is
 * shown once and stored only as a hash, absent limits come from the plan, input is validated entry by
 * entry, another account's key does not exist, and every change is obeyed by the data plane at once.
 */
describe('API keys are managed through the API', () => {
  let stack: TestStack;
  let rpc: RpcClient;
  let owner: TestAccount;
  let other: TestAccount;
  const chat = (key: string, headers: Record<string, string> = {}) =>
    callJson(stack.url, 'POST', '/v1/chat/completions', {
      headers: { authorization: `Bearer ${key}`, ...headers },
      body: { model: 'gpt-5', messages: [{ role: 'user', content: 'hi' }] },
    });
  const keys = (account: TestAccount, method: string, path = '', body?: unknown) =>
    callJson(stack.url, method, `/api/v1/keys${path}`, { token: account.token, body });
  const create = async (body: Record<string, unknown>): Promise<ApiKeyCreated> => {
    const res = await keys(owner, 'POST', '', body);
    expect(res.status).toBe(201);
    return res.body as ApiKeyCreated;
  };

  beforeAll(async () => {
    stack = await startTestStack({ env: { ROUTER_KEY_LAST_USED_FLUSH_MS: '200' } });
    rpc = stack.rpc;
    [owner, other] = await Promise.all([createTestAccount(stack), createTestAccount(stack)]);
  });

  afterAll(async () => {
    await stack?.close();
  });

  it('shows the full key once, stores only its hash, and lists it masked', async () => {
    const created = await create({ name: 'prod-backend' });
    expect(created.key).toMatch(/^sk-[0-9A-Za-z]{39}$/);
    expect(isWellFormedApiKey(created.key)).toBe(true);
    expect(created.maskedKey).toBe(`${created.key.slice(0, 7)}…${created.key.slice(-4)}`);
    expect(created).toMatchObject({ name: 'prod-backend', status: 'active', expired: false, spentUsd: 0 });

    const listed = await keys(owner, 'GET');
    expect(listed.status).toBe(200);
    const row = (listed.body.data as ApiKeyView[]).find((k) => k.id === created.id)!;
    expect(row.maskedKey).toBe(created.maskedKey);
    expect(JSON.stringify(listed.body)).not.toContain(created.key);
    const one = await keys(owner, 'GET', `/${created.id}`);
    expect(JSON.stringify(one.body)).not.toContain(created.key.slice(7, -4));
    expect(one.body).not.toHaveProperty('key');

    const db = new Client({ connectionString: stack.databaseUrl });
    await db.connect();
    try {
      const stored = await db.query(`SELECT * FROM keys.api_keys WHERE id = $1`, [created.id]);
      expect(stored.rows[0].key_hash).toBe(hashApiKey(created.key));
      expect(JSON.stringify(stored.rows[0])).not.toContain(created.key.slice(3));
    } finally {
      await db.end();
    }
    expect((await chat(created.key)).status).toBe(200);
  });

  it("fills absent limits from the account's default plan, or from the plan named", async () => {
    const defaultPlan: PlanView = await rpc.send(Subjects.billingAccountDefaultPlanGet, {
      accountId: owner.id,
    });
    const inherited = await create({ name: 'inherits' });
    const d = defaultPlan.defaultKeyLimits;
    expect(inherited.planId).toBe(defaultPlan.id);
    expect(inherited.quotaUsd).toBe(d.quotaUsd);
    expect(inherited.rateLimits).toEqual({
      per5h: d.per5h,
      per1d: d.per1d,
      per7d: d.per7d,
      rpm: d.rpm,
      tpm: d.tpm,
    });

    const plan = await rpc.send(Subjects.billingPlanCreate, {
      name: `keys-e2e-${Date.now()}`,
      kind: 'payg',
      models: [],
      defaultKeyLimits: {
        quotaUsd: 12.5,
        expiresInDays: 30,
        per5h: 50,
        per1d: 200,
        per7d: 900,
        rpm: 7,
        tpm: 9000,
      },
    });
    const before = Date.now();
    const fromPlan = await create({ name: 'from-plan', planId: plan.id, rateLimits: { rpm: 0, per1d: 3 } });
    expect(fromPlan.planId).toBe(plan.id);
    expect(fromPlan.quotaUsd).toBe(12.5);
    expect(fromPlan.remainingQuotaUsd).toBe(12.5);
    // sent fields win (0 = off), absent ones take the plan's defaults
    expect(fromPlan.rateLimits).toEqual({ per5h: 50, per1d: 3, per7d: 900, rpm: 0, tpm: 9000 });
    const expires = Date.parse(fromPlan.expiresAt!);
    expect(expires).toBeGreaterThanOrEqual(before + 30 * 86_400_000 - 5_000);
    expect(expires).toBeLessThanOrEqual(Date.now() + 30 * 86_400_000 + 5_000);

    const explicitZero = await create({ name: 'no-caps', planId: plan.id, quotaUsd: 0, expiresInDays: 0 });
    expect(explicitZero).toMatchObject({ quotaUsd: 0, remainingQuotaUsd: null, expiresAt: null });

    const unknownPlan = await keys(owner, 'POST', '', {
      name: 'x',
      planId: '00000000-0000-4000-8000-000000000000',
    });
    expect(unknownPlan.status).toBe(400);
    expect(unknownPlan.body.error.message).toMatch(/planId/);
  });

  it('accepts the text forms and arrays for lists and normalises every limit', async () => {
    const created = await create({
      name: 'lists',
      quotaUsd: 3.25,
      expiresInDays: 0,
      rateLimits: { per5h: 0, per1d: 0, per7d: 0, rpm: 60, tpm: 0 },
      ipWhitelist: '203.0.113.77/24\n 198.51.100.42 ,2001:DB8::/32\n',
      ipBlacklist: ['::ffff:203.0.113.9'],
      modelWhitelist: 'gpt-5, anthropic/claude-opus-4-7 ,gpt-5',
    });
    expect(created).toMatchObject({
      quotaUsd: 3.25,
      expiresAt: null,
      rateLimits: { per5h: 0, per1d: 0, per7d: 0, rpm: 60, tpm: 0 },
      ipWhitelist: ['203.0.113.0/24', '198.51.100.42/32', '2001:db8::/32'],
      ipBlacklist: ['203.0.113.9/32'],
      modelWhitelist: ['gpt-5', 'anthropic/claude-opus-4-7'],
    });
  });

  it.each([
    [
      { name: 'x', ipWhitelist: '10.0.0.0/8, 127.1' },
      /ipWhitelist\.1: "127\.1" is not an IPv4\/IPv6 address/,
    ],
    [{ name: 'x', ipBlacklist: ['2001:db8::/200'] }, /ipBlacklist\.0: "2001:db8::\/200"/],
    [{ name: 'x', quotaUsd: -5 }, /quotaUsd/],
    [{ name: 'x', expiresInDays: -1 }, /expiresInDays/],
    [{ name: 'x', rateLimits: { rpm: -1 } }, /rateLimits\.rpm/],
    [{ name: 'x', modelWhitelist: 'gpt-5 gpt-5-mini' }, /modelWhitelist\.0: a model id contains no spaces/],
    [{ name: 'x', quota: 5 }, /Unrecognized key\(s\) in object: 'quota'/],
    [{}, /name: Required/],
  ])('refuses %j with 400 naming the entry', async (body, message) => {
    const res = await keys(owner, 'POST', '', body);
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('validation_failed');
    expect(res.body.error.message).toMatch(message);
  });

  it('needs a session, and a verified, active account to create keys', async () => {
    expect((await callJson(stack.url, 'GET', '/api/v1/keys')).status).toBe(401);
    expect((await callJson(stack.url, 'POST', '/api/v1/keys', { body: { name: 'x' } })).status).toBe(401);

    const unverified = await createTestAccount(stack, { verified: false });
    const res = await keys(unverified, 'POST', '', { name: 'x' });
    expect(res.status).toBe(403);
    expect(res.body.error.code).toBe('email_not_verified');

    const suspended = await createTestAccount(stack);
    await rpc.send(Subjects.authAccountUpdate, { accountId: suspended.id, suspended: true });
    const refused = await keys(suspended, 'POST', '', { name: 'x' });
    expect(refused.status).toBe(403);
    expect(refused.body.error.code).toBe('account_suspended');
  });

  it("treats another account's key id as not found", async () => {
    const mine = await create({ name: 'mine' });
    for (const [method, path, body] of [
      ['GET', `/${mine.id}`, undefined],
      ['PATCH', `/${mine.id}`, { status: 'disabled' }],
      ['DELETE', `/${mine.id}`, undefined],
      ['POST', `/${mine.id}/rotate`, {}],
    ] as const) {
      const res = await keys(other, method, path, body);
      expect(res.status).toBe(404);
      expect(res.body.error.code).toBe('not_found');
    }
    expect((await keys(other, 'GET')).body.data).toEqual([]);
    expect((await keys(owner, 'GET', '/not-a-uuid')).status).toBe(404);
    // untouched
    expect((await keys(owner, 'GET', `/${mine.id}`)).body.status).toBe('active');
    expect((await chat(mine.key)).status).toBe(200);
  });

  it('edits a key and the data plane obeys on the very next request', async () => {
    const k = await create({ name: 'editable', rateLimits: { rpm: 0 } });
    expect((await chat(k.key)).status).toBe(200);

    let res = await keys(owner, 'PATCH', `/${k.id}`, { status: 'disabled', name: 'renamed' });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ status: 'disabled', name: 'renamed' });
    let call = await chat(k.key);
    expect(call.status).toBe(401);
    expect(call.body.error.code).toBe('API_KEY_DISABLED');

    res = await keys(owner, 'PATCH', `/${k.id}`, { status: 'active', modelWhitelist: 'claude-opus-4-7' });
    expect(res.body.modelWhitelist).toEqual(['claude-opus-4-7']);
    call = await chat(k.key);
    expect(call.status).toBe(403);
    expect(call.body.error.code).toBe('model_not_allowed');

    res = await keys(owner, 'PATCH', `/${k.id}`, {
      modelWhitelist: [],
      expiresAt: new Date(Date.now() - 1000).toISOString(),
    });
    expect(res.body.expired).toBe(true);
    call = await chat(k.key);
    expect(call.status).toBe(401);
    expect(call.body.error.code).toBe('API_KEY_EXPIRED');

    res = await keys(owner, 'PATCH', `/${k.id}`, { expiresInDays: 2 });
    expect(res.body.expired).toBe(false);
    expect(Date.parse(res.body.expiresAt)).toBeGreaterThan(Date.now() + 86_400_000);
    expect((await chat(k.key)).status).toBe(200);

    res = await keys(owner, 'PATCH', `/${k.id}`, { expiresAt: null, rateLimits: { per1d: 9 } });
    expect(res.body).toMatchObject({ expiresAt: null, rateLimits: { per1d: 9, rpm: 0 } });

    const both = await keys(owner, 'PATCH', `/${k.id}`, { expiresAt: null, expiresInDays: 1 });
    expect(both.status).toBe(400);
    expect(both.body.error.message).toMatch(/expiresAt: send either expiresAt or expiresInDays/);
    expect((await keys(owner, 'PATCH', `/${k.id}`, { status: 'deleted' })).status).toBe(400);
  });

  it('deletes a key: 204, then 401 INVALID_API_KEY from the next request on', async () => {
    const k = await create({ name: 'doomed' });
    expect((await chat(k.key)).status).toBe(200);
    const res = await keys(owner, 'DELETE', `/${k.id}`);
    expect(res.status).toBe(204);
    const call = await chat(k.key);
    expect(call.status).toBe(401);
    expect(call.body.error.code).toBe('INVALID_API_KEY');
    expect((await keys(owner, 'GET', `/${k.id}`)).status).toBe(404);
    expect((await keys(owner, 'DELETE', `/${k.id}`)).status).toBe(404);
  });

  it('rotates a key: new secret and id, same settings; the old one stops after the grace period', async () => {
    const old = await create({
      name: 'rotating',
      quotaUsd: 9,
      rateLimits: { rpm: 100, per1d: 0, per5h: 0, per7d: 0, tpm: 0 },
      ipBlacklist: '192.0.2.0/24',
      modelWhitelist: 'gpt-5',
    });
    const immediate = await keys(owner, 'POST', `/${old.id}/rotate`);
    expect(immediate.status).toBe(201);
    const next = immediate.body.key as ApiKeyCreated;
    expect(next.id).not.toBe(old.id);
    expect(next.key).not.toBe(old.key);
    expect(isWellFormedApiKey(next.key)).toBe(true);
    for (const field of [
      'name',
      'quotaUsd',
      'rateLimits',
      'ipBlacklist',
      'modelWhitelist',
      'expiresAt',
      'planId',
    ] as const) {
      expect(next[field]).toEqual(old[field]);
    }
    expect((await chat(old.key)).body.error.code).toBe('INVALID_API_KEY');
    expect((await chat(next.key)).status).toBe(200);

    const graced = await keys(owner, 'POST', `/${next.id}/rotate`, { graceSeconds: 2 });
    const newest = graced.body.key as ApiKeyCreated;
    expect(Date.parse(graced.body.previous.deleteAt)).toBeGreaterThan(Date.now());
    expect((await chat(next.key)).status).toBe(200);
    expect((await chat(newest.key)).status).toBe(200);
    await eventually(async () => (await chat(next.key)).status === 401, 20_000);
    expect((await chat(next.key)).body.error.code).toBe('INVALID_API_KEY');
    expect((await chat(newest.key)).status).toBe(200);
    expect(((await keys(owner, 'GET')).body.data as ApiKeyView[]).map((k) => k.id)).toContain(newest.id);
    expect(((await keys(owner, 'GET')).body.data as ApiKeyView[]).map((k) => k.id)).not.toContain(next.id);

    const bad = await keys(owner, 'POST', `/${newest.id}/rotate`, { graceSeconds: -1 });
    expect(bad.status).toBe(400);
    expect(bad.body.error.message).toMatch(/graceSeconds/);
  });

  it('reports spend settled by billing once per request id, and the remaining quota', async () => {
    const k = await create({ name: 'spender', quotaUsd: 2 });
    const first = await rpc.send(Subjects.keysApiKeySpendAdd, {
      keyId: k.id,
      requestId: `req_${k.id}_1`,
      amountMicroUsd: 250_000,
    });
    const again = await rpc.send(Subjects.keysApiKeySpendAdd, {
      keyId: k.id,
      requestId: `req_${k.id}_1`,
      amountMicroUsd: 250_000,
    });
    expect(first).toMatchObject({ applied: true, spentMicroUsd: 250_000 });
    expect(again).toMatchObject({ applied: false, spentMicroUsd: 250_000 });
    const view = (await keys(owner, 'GET', `/${k.id}`)).body as ApiKeyView;
    expect(view).toMatchObject({ spentUsd: 0.25, quotaUsd: 2, remainingQuotaUsd: 1.75 });
  });

  it('records when and from where a key was last used, in batches', async () => {
    const k = await create({ name: 'tracked' });
    expect((await keys(owner, 'GET', `/${k.id}`)).body).toMatchObject({ lastUsedAt: null, lastUsedIp: null });
    const before = Date.now();
    expect((await chat(k.key)).status).toBe(200);
    const seen = await eventually(async () => {
      const v = (await keys(owner, 'GET', `/${k.id}`)).body as ApiKeyView;
      return v.lastUsedAt ? v : undefined;
    });
    expect(Date.parse(seen.lastUsedAt!)).toBeGreaterThanOrEqual(before - 1000);
    expect(seen.lastUsedIp).toBe('127.0.0.1');
  });

  it('lets a key read its own limits, spend and window usage with the key itself', async () => {
    const k = await create({
      name: 'self',
      quotaUsd: 50,
      rateLimits: { rpm: 10, per1d: 100, per5h: 0, per7d: 0, tpm: 0 },
    });
    expect((await chat(k.key)).status).toBe(200);
    expect((await chat(k.key)).status).toBe(200);
    const res = await callJson(stack.url, 'GET', '/api/v1/key', {
      headers: { authorization: `Bearer ${k.key}` },
    });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      id: k.id,
      name: 'self',
      quotaUsd: 50,
      rateLimits: { rpm: 10, per1d: 100 },
      windows: {
        rpm: { limit: 10, used: 2, remaining: 8 },
        per1d: { limit: 100, used: 2, remaining: 98 },
        per5h: null,
        per7d: null,
        tpm: null,
      },
    });
    expect(res.body.windows.rpm.resetMs).toBeGreaterThan(0);
    // billing settles spend in the background: whatever is settled so far is reported consistently
    expect(res.body.spentUsd).toBeGreaterThanOrEqual(0);
    expect(res.body.remainingQuotaUsd).toBeCloseTo(50 - res.body.spentUsd, 6);
    expect(res.body).not.toHaveProperty('key');
    // asking counts in no window
    const again = await callJson(stack.url, 'GET', '/api/v1/key', { headers: { 'x-api-key': k.key } });
    expect(again.body.windows.rpm.used).toBe(2);

    const withSession = await callJson(stack.url, 'GET', '/api/v1/key', { token: owner.token });
    expect(withSession.status).toBe(401);
    expect(withSession.body.error.code).toBe('INVALID_API_KEY');
    expect((await callJson(stack.url, 'GET', '/api/v1/key')).body.error.code).toBe('API_KEY_REQUIRED');
  });

  it('documents every route in the OpenAPI document', async () => {
    const doc = (await callJson(stack.url, 'GET', '/docs-json')).body;
    const ops = (path: string) =>
      doc.paths[path] as Record<string, { operationId: string; responses: Record<string, unknown> }>;
    expect(ops('/api/v1/keys').post.operationId).toBe('createApiKey');
    expect(ops('/api/v1/keys').get.operationId).toBe('listApiKeys');
    expect(ops('/api/v1/keys/{id}').get.operationId).toBe('getApiKey');
    expect(ops('/api/v1/keys/{id}').patch.operationId).toBe('updateApiKey');
    expect(ops('/api/v1/keys/{id}').delete.operationId).toBe('deleteApiKey');
    expect(ops('/api/v1/keys/{id}/rotate').post.operationId).toBe('rotateApiKey');
    expect(ops('/api/v1/key').get.operationId).toBe('getOwnApiKey');
    expect(Object.keys(ops('/api/v1/keys').post.responses)).toEqual(
      expect.arrayContaining(['201', '400', '401', '403', '503']),
    );
    expect(doc.components.schemas.CreatedApiKeyDto.properties.key).toBeDefined();
    expect(doc.components.schemas.OwnApiKeyDto.properties.windows).toBeDefined();
  });
});
