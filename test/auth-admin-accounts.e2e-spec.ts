import { Subjects } from '@torouter/contracts';
import { RpcClient } from '@torouter/messaging';
import { startTestStack, type TestStack } from './support/test-stack';

/**
 * Operators manage accounts through /api/v1/admin/accounts with the admin token or an admin's session;
 * suspension reaches the data plane at once (USER_INACTIVE), and nobody else gets in.
 */
describe('admin: accounts', () => {
  let stack: TestStack;
  let rpc: RpcClient;
  const ids: Record<string, string> = {};

  beforeAll(async () => {
    stack = await startTestStack();
    rpc = stack.rpc;
    for (const name of ['alice', 'bob', 'carol', 'dave', 'erin']) {
      const a = await rpc.send(Subjects.authAccountCreate, {
        email: `${name}@Admin-Test.example`,
        password: `${name}-password`,
        emailVerified: true,
      });
      ids[name] = a.id;
    }
  });

  afterAll(async () => {
    await stack?.close();
  });

  const call = async (method: string, path: string, token?: string, body?: unknown) => {
    const res = await fetch(`${stack.url}${path}`, {
      method,
      headers: {
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
        ...(token ? { authorization: `Bearer ${token}` } : {}),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : undefined };
  };
  const sessionOf = async (name: string) => {
    const res = await call('POST', '/api/v1/auth/login', undefined, {
      email: `${name}@admin-test.example`,
      password: `${name}-password`,
    });
    expect(res.status).toBe(200);
    return res.body.accessToken as string;
  };

  it('lists accounts newest first, filtered by part of the email, page by page', async () => {
    const all = await call('GET', '/api/v1/admin/accounts', stack.adminToken);
    expect(all.status).toBe(200);
    expect(all.body.nextCursor).toBeNull();
    expect(all.body.data.map((a: any) => a.email)).toEqual(
      expect.arrayContaining(['demo@torouter.local', 'alice@admin-test.example']),
    );
    expect(all.body.data[0]).toEqual({
      id: ids.erin,
      email: 'erin@admin-test.example',
      username: null,
      role: 'user',
      emailVerified: true,
      suspended: false,
      totpEnabled: false,
      createdAt: expect.any(String),
    });

    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const q: string = `?email=ADMIN-TEST&limit=2${cursor ? `&cursor=${cursor}` : ''}`;
      const page = await call('GET', `/api/v1/admin/accounts${q}`, stack.adminToken);
      expect(page.status).toBe(200);
      expect(page.body.data.length).toBeLessThanOrEqual(2);
      seen.push(...page.body.data.map((a: any) => a.email));
      cursor = page.body.nextCursor;
      pages++;
    } while (cursor);
    expect(pages).toBe(3);
    expect(seen).toEqual(['erin', 'dave', 'carol', 'bob', 'alice'].map((n) => `${n}@admin-test.example`));

    const none = await call('GET', '/api/v1/admin/accounts?email=%25', stack.adminToken);
    expect(none.body.data).toEqual([]);

    const badLimit = await call('GET', '/api/v1/admin/accounts?limit=0', stack.adminToken);
    expect(badLimit.status).toBe(400);
    expect(badLimit.body.error.message).toMatch(/^limit: /);
    const badCursor = await call('GET', '/api/v1/admin/accounts?cursor=bm90LWEtdXVpZA', stack.adminToken);
    expect(badCursor.status).toBe(400);
    expect(badCursor.body.error.message).toMatch(/^cursor: /);
  });

  it('reads one account; unknown or malformed ids are 404', async () => {
    const one = await call('GET', `/api/v1/admin/accounts/${ids.bob}`, stack.adminToken);
    expect(one.status).toBe(200);
    expect(one.body).toMatchObject({ id: ids.bob, email: 'bob@admin-test.example' });
    const unknown = await call(
      'GET',
      '/api/v1/admin/accounts/00000000-0000-4000-8000-000000000000',
      stack.adminToken,
    );
    expect(unknown.status).toBe(404);
    expect(unknown.body.error.code).toBe('not_found');
    expect((await call('GET', '/api/v1/admin/accounts/not-a-uuid', stack.adminToken)).status).toBe(404);
    expect(
      (
        await call('PATCH', '/api/v1/admin/accounts/00000000-0000-4000-8000-000000000000', stack.adminToken, {
          suspended: true,
        })
      ).status,
    ).toBe(404);
  });

  it('suspends an account: its keys get USER_INACTIVE at once, it can still sign in; reinstating restores them', async () => {
    const demoId = stack.demo!.account.id;
    const key = stack.demo!.apiKey!.key;
    const models = () => fetch(`${stack.url}/v1/models`, { headers: { authorization: `Bearer ${key}` } });
    expect((await models()).status).toBe(200);

    const suspended = await call('PATCH', `/api/v1/admin/accounts/${demoId}`, stack.adminToken, {
      suspended: true,
    });
    expect(suspended.status).toBe(200);
    expect(suspended.body).toMatchObject({ id: demoId, suspended: true });
    const refused = await models();
    expect(refused.status).toBe(401);
    expect(((await refused.json()) as any).error.code).toBe('USER_INACTIVE');

    const session = await call('POST', '/api/v1/auth/login', undefined, {
      email: 'demo@torouter.local',
      password: stack.demo!.account.password,
    });
    expect(session.status).toBe(200);
    const me = await call('GET', '/api/v1/auth/me', session.body.accessToken);
    expect(me.body.suspended).toBe(true);
    const newKey = await call('POST', '/api/v1/keys', session.body.accessToken, { name: 'while suspended' });
    expect(newKey.status).toBe(403);
    expect(newKey.body.error).toMatchObject({ type: 'account_suspended', code: 'account_suspended' });

    const back = await call('PATCH', `/api/v1/admin/accounts/${demoId}`, stack.adminToken, {
      suspended: false,
    });
    expect(back.body.suspended).toBe(false);
    expect((await models()).status).toBe(200);
  });

  it('promotes an account to admin (its session then passes) and demotes it again', async () => {
    const carol = await sessionOf('carol');
    const before = await call('GET', '/api/v1/admin/accounts', carol);
    expect(before.status).toBe(403);
    expect(before.body.error).toMatchObject({ type: 'forbidden', code: 'forbidden' });

    const promoted = await call('PATCH', `/api/v1/admin/accounts/${ids.carol}`, stack.adminToken, {
      role: 'admin',
    });
    expect(promoted.body.role).toBe('admin');
    expect((await call('GET', '/api/v1/admin/accounts', carol)).status).toBe(200);
    expect((await call('GET', '/api/v1/auth/me', carol)).body.role).toBe('admin');

    // An admin session can act on other accounts too.
    const byCarol = await call('PATCH', `/api/v1/admin/accounts/${ids.dave}`, carol, { suspended: true });
    expect(byCarol.status).toBe(200);
    expect(
      (await call('PATCH', `/api/v1/admin/accounts/${ids.dave}`, carol, { suspended: false })).status,
    ).toBe(200);

    await call('PATCH', `/api/v1/admin/accounts/${ids.carol}`, stack.adminToken, { role: 'user' });
    expect((await call('GET', '/api/v1/admin/accounts', carol)).status).toBe(403);
  });

  it("never lets a non-admin read or change another account's data", async () => {
    const bob = await sessionOf('bob');
    expect((await call('GET', `/api/v1/admin/accounts/${ids.alice}`, bob)).status).toBe(403);
    expect((await call('PATCH', `/api/v1/admin/accounts/${ids.alice}`, bob, { role: 'admin' })).status).toBe(
      403,
    );
    expect((await call('PATCH', `/api/v1/admin/accounts/${ids.bob}`, bob, { role: 'admin' })).status).toBe(
      403,
    );
    const me = await call('GET', '/api/v1/auth/me', bob);
    expect(me.body).toMatchObject({ id: ids.bob, role: 'user' });

    const anonymous = await call('GET', '/api/v1/admin/accounts');
    expect(anonymous.status).toBe(401);
    expect(anonymous.body.error.code).toBe('unauthorized');
    expect((await call('GET', '/api/v1/admin/accounts', 'not-the-admin-token-at-all')).status).toBe(401);
  });

  it('validates the update body', async () => {
    const empty = await call('PATCH', `/api/v1/admin/accounts/${ids.erin}`, stack.adminToken, {});
    expect(empty.status).toBe(400);
    expect(empty.body.error.code).toBe('validation_failed');
    const badRole = await call('PATCH', `/api/v1/admin/accounts/${ids.erin}`, stack.adminToken, {
      role: 'root',
    });
    expect(badRole.status).toBe(400);
    expect(badRole.body.error.message).toMatch(/^role: /);
    const email = await call('PATCH', `/api/v1/admin/accounts/${ids.erin}`, stack.adminToken, {
      email: 'x@example.com',
    });
    expect(email.status).toBe(400);
  });
});
