import { Subjects } from '@torouter/contracts';
import { RpcClient } from '@torouter/messaging';
import { Client } from 'pg';
import { linkToken, startSmtpSink, type SmtpSink } from './support/smtp-sink';
import { startTestStack, type TestStack } from './support/test-stack';

/**
 * Sign-in, the signed-in account's profile, changing the password, and resetting a forgotten one by an
 * emailed link — through the router, over real NATS, Postgres and SMTP.
 */
describe('sign-in, profile and passwords', () => {
  let stack: TestStack;
  let sink: SmtpSink;
  let db: Client;
  let rpc: RpcClient;

  beforeAll(async () => {
    sink = await startSmtpSink();
    stack = await startTestStack({ seedDemo: false, env: { SMTP_URL: sink.url } });
    db = new Client({ connectionString: stack.databaseUrl });
    await db.connect();
    rpc = stack.rpc;
  });

  afterAll(async () => {
    await db?.end();
    await stack?.close();
    await sink?.close();
  });

  const call = async (method: string, path: string, body?: unknown, token?: string) => {
    const res = await fetch(`${stack.url}${path}`, {
      method,
      headers: {
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
        ...(token ? { authorization: `Bearer ${token}` } : {}),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, headers: res.headers, body: text ? JSON.parse(text) : undefined };
  };

  /** A verified account, signed up and verified through the public routes. */
  const verifiedAccount = async (email: string, password = 'first-pass-1') => {
    const res = await call('POST', '/api/v1/auth/signup', { email, password });
    expect(res.status).toBe(201);
    const token = linkToken(await sink.take({ to: email, subject: 'Verify' }));
    expect((await call('POST', '/api/v1/auth/verify-email', { token })).status).toBe(200);
    return { id: res.body.id as string, email, password };
  };

  const login = (email: string, password: string) => call('POST', '/api/v1/auth/login', { email, password });

  it('signs in with a short-lived Bearer JWT that opens /api/v1/auth/me', async () => {
    const acct = await verifiedAccount('login@example.com');
    const res = await login('LOGIN@example.com ', acct.password);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ accessToken: expect.any(String), tokenType: 'Bearer', expiresIn: 3600 });
    expect(res.body.accessToken.split('.')).toHaveLength(3);

    const me = await call('GET', '/api/v1/auth/me', undefined, res.body.accessToken);
    expect(me.status).toBe(200);
    expect(me.body).toEqual({
      id: acct.id,
      email: 'login@example.com',
      username: null,
      emailVerified: true,
      role: 'user',
      totpEnabled: false,
      suspended: false,
      createdAt: expect.any(String),
    });

    const anonymous = await call('GET', '/api/v1/auth/me');
    expect(anonymous.status).toBe(401);
    expect(anonymous.body.error.code).toBe('unauthorized');
    const forged = await call(
      'GET',
      '/api/v1/auth/me',
      undefined,
      `${res.body.accessToken.slice(0, -4)}AAAA`,
    );
    expect(forged.status).toBe(401);
  });

  it('answers a wrong password and an unknown email with the same 401 invalid_credentials', async () => {
    await verifiedAccount('wrong-pass@example.com');
    const wrong = await login('wrong-pass@example.com', 'not-the-password');
    const unknown = await login('nobody-here@example.com', 'not-the-password');
    expect(wrong.status).toBe(401);
    expect(unknown.status).toBe(401);
    expect(wrong.body).toEqual(unknown.body);
    expect(wrong.body.error).toMatchObject({ type: 'invalid_credentials', code: 'invalid_credentials' });

    const missing = await call('POST', '/api/v1/auth/login', { email: 'x@example.com' });
    expect(missing.status).toBe(400);
    expect(missing.body.error.message).toContain('password');
  });

  it('changes the username but never the email (400 naming it)', async () => {
    const acct = await verifiedAccount('profile@example.com');
    const session = (await login(acct.email, acct.password)).body.accessToken;

    const renamed = await call('PATCH', '/api/v1/auth/me', { username: '  Ada  ' }, session);
    expect(renamed.status).toBe(200);
    expect(renamed.body).toMatchObject({ username: 'Ada', email: 'profile@example.com' });
    expect((await call('GET', '/api/v1/auth/me', undefined, session)).body.username).toBe('Ada');

    const emailChange = await call(
      'PATCH',
      '/api/v1/auth/me',
      { username: 'Ada', email: 'new@example.com' },
      session,
    );
    expect(emailChange.status).toBe(400);
    expect(emailChange.body.error.code).toBe('validation_failed');
    expect(emailChange.body.error.message).toMatch(/^email: cannot be changed/);
    expect((await call('GET', '/api/v1/auth/me', undefined, session)).body.email).toBe('profile@example.com');

    const tooLong = await call('PATCH', '/api/v1/auth/me', { username: 'x'.repeat(65) }, session);
    expect(tooLong.status).toBe(400);
    expect(tooLong.body.error.message).toMatch(/^username: /);

    const cleared = await call('PATCH', '/api/v1/auth/me', { username: null }, session);
    expect(cleared.body.username).toBeNull();

    // The username does not affect sign-in.
    expect((await login(acct.email, acct.password)).status).toBe(200);
    expect((await call('PATCH', '/api/v1/auth/me', { username: 'x' })).status).toBe(401);
  });

  it('changes the password with the current one; the session stays valid, the old password stops working', async () => {
    const acct = await verifiedAccount('change@example.com');
    const session = (await login(acct.email, acct.password)).body.accessToken;

    const wrong = await call(
      'POST',
      '/api/v1/auth/password',
      { currentPassword: 'not-it', newPassword: 'second-pass-2' },
      session,
    );
    expect(wrong.status).toBe(401);
    expect(wrong.body.error.code).toBe('invalid_credentials');

    const short = await call(
      'POST',
      '/api/v1/auth/password',
      { currentPassword: acct.password, newPassword: '12345' },
      session,
    );
    expect(short.status).toBe(400);
    expect(short.body.error.message).toBe('newPassword: must be at least 6 characters');

    const ok = await call(
      'POST',
      '/api/v1/auth/password',
      { currentPassword: acct.password, newPassword: 'second-pass-2' },
      session,
    );
    expect(ok.status).toBe(200);
    expect(ok.body).toEqual({ passwordChanged: true });
    expect((await call('GET', '/api/v1/auth/me', undefined, session)).status).toBe(200);
    expect((await login(acct.email, acct.password)).status).toBe(401);
    expect((await login(acct.email, 'second-pass-2')).status).toBe(200);
    await sink.take({ to: acct.email, subject: 'password was changed' });

    expect(
      (await call('POST', '/api/v1/auth/password', { currentPassword: 'a', newPassword: 'bbbbbb' })).status,
    ).toBe(401);
  });

  it('resets a forgotten password by a single-use link: old password and old sessions die, API keys live', async () => {
    const acct = await verifiedAccount('forgot@example.com');
    const oldSession = (await login(acct.email, acct.password)).body.accessToken;
    const key = await rpc.send(Subjects.keysApiKeyCreate, { accountId: acct.id, name: 'survives reset' });
    const models = () => fetch(`${stack.url}/v1/models`, { headers: { authorization: `Bearer ${key.key}` } });
    expect((await models()).status).toBe(200);

    const known = await call('POST', '/api/v1/auth/password/forgot', { email: 'Forgot@Example.com' });
    const unknown = await call('POST', '/api/v1/auth/password/forgot', { email: 'ghost@example.com' });
    expect(known.status).toBe(202);
    expect(unknown.status).toBe(202);
    expect(known.body).toEqual(unknown.body);

    const mail = await sink.take({ to: acct.email, subject: 'Reset' });
    expect(mail.text).toMatch(/http:\/\/localhost:8080\/auth\/reset-password\?token=/);
    const token = linkToken(mail);
    const stored = await db.query(
      `SELECT token_hash FROM auth.one_time_tokens WHERE purpose = 'reset_password'`,
    );
    expect(stored.rows.map((r) => r.token_hash)).not.toContain(token);

    // A too-short password is refused without using up the link.
    const short = await call('POST', '/api/v1/auth/password/reset', { token, password: '123' });
    expect(short.status).toBe(400);
    expect(short.body.error.message).toBe('password: must be at least 6 characters');

    const reset = await call('POST', '/api/v1/auth/password/reset', { token, password: 'brand-new-3' });
    expect(reset.status).toBe(200);
    expect(reset.body).toEqual({ passwordChanged: true });

    const reused = await call('POST', '/api/v1/auth/password/reset', { token, password: 'brand-new-4' });
    expect(reused.status).toBe(400);
    expect(reused.body.error.code).toBe('invalid_token');

    expect((await login(acct.email, acct.password)).body.error.code).toBe('invalid_credentials');
    const fresh = await login(acct.email, 'brand-new-3');
    expect(fresh.status).toBe(200);
    const revoked = await call('GET', '/api/v1/auth/me', undefined, oldSession);
    expect(revoked.status).toBe(401);
    expect((await call('GET', '/api/v1/auth/me', undefined, fresh.body.accessToken)).status).toBe(200);
    expect((await models()).status).toBe(200);

    // Nobody got a link for the unknown address.
    await sink.take({ to: acct.email, subject: 'password was changed' });
    expect(sink.count({ to: 'ghost@example.com' })).toBe(0);
  });

  it('refuses an expired or unknown reset link with 400 invalid_token', async () => {
    const acct = await verifiedAccount('expired-reset@example.com');
    expect((await call('POST', '/api/v1/auth/password/forgot', { email: acct.email })).status).toBe(202);
    const token = linkToken(await sink.take({ to: acct.email, subject: 'Reset' }));
    await db.query(
      `UPDATE auth.one_time_tokens SET expires_at = now() - interval '1 second'
        WHERE account_id = $1 AND purpose = 'reset_password'`,
      [acct.id],
    );
    const expired = await call('POST', '/api/v1/auth/password/reset', { token, password: 'whatever-9' });
    expect(expired.status).toBe(400);
    expect(expired.body.error.code).toBe('invalid_token');
    expect((await login(acct.email, acct.password)).status).toBe(200);

    const unknown = await call('POST', '/api/v1/auth/password/reset', {
      token: 'x'.repeat(43),
      password: 'abcdef',
    });
    expect(unknown.body.error.code).toBe('invalid_token');

    const badEmail = await call('POST', '/api/v1/auth/password/forgot', { email: 'nope' });
    expect(badEmail.status).toBe(400);
    expect(badEmail.body.error.message).toMatch(/^email: /);
  });

  it('stores passwords as argon2id hashes only', async () => {
    const rows = await db.query(`SELECT password_hash FROM auth.accounts WHERE email = 'login@example.com'`);
    expect(rows.rows[0].password_hash).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
  });
});
