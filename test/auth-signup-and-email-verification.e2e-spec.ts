import { Subjects } from '@torouter/contracts';
import { RpcClient } from '@torouter/messaging';
import { Client } from 'pg';
import { linkToken, startSmtpSink, type SmtpSink } from './support/smtp-sink';
import { startTestStack, type TestStack } from './support/test-stack';

/**
 * Sign-up through the router over real NATS and Postgres: the verification email arrives over SMTP with
 * a single-use link; unverified accounts sign in but their API keys get USER_INACTIVE until verified.
 */
describe('sign-up and email verification', () => {
  let stack: TestStack;
  let sink: SmtpSink;
  let db: Client;
  let rpc: RpcClient;

  beforeAll(async () => {
    sink = await startSmtpSink();
    stack = await startTestStack({
      seedDemo: false,
      env: { SMTP_URL: sink.url, PUBLIC_BASE_URL: 'https://portal.example.test' },
    });
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

  const signUp = (email: string, password = 'hunter22!') =>
    call('POST', '/api/v1/auth/signup', { email, password });
  const login = async (email: string, password = 'hunter22!') => {
    const res = await call('POST', '/api/v1/auth/login', { email, password });
    expect(res.status).toBe(200);
    return res.body.accessToken as string;
  };

  it('creates an unverified account (201) and emails a single-use verification link', async () => {
    const res = await signUp('  Ada.Lovelace@Example.COM ');
    expect(res.status).toBe(201);
    expect(res.body).toEqual({
      id: expect.stringMatching(/^[0-9a-f-]{36}$/),
      email: 'ada.lovelace@example.com',
      emailVerified: false,
      createdAt: expect.any(String),
    });
    expect(Number.isNaN(Date.parse(res.body.createdAt))).toBe(false);

    const mail = await sink.take({ to: 'ada.lovelace@example.com', subject: 'Verify' });
    expect(mail.from).toContain('no-reply@torouter.local');
    const link = /https:\/\/portal\.example\.test\/auth\/verify-email\?token=[A-Za-z0-9_-]+/.exec(mail.text);
    expect(link).not.toBeNull();
    expect(mail.html).toContain('https://portal.example.test/auth/verify-email?token=');
    const token = linkToken(mail);
    expect(token.length).toBeGreaterThanOrEqual(43);

    // Stored hashed only.
    const rows = await db.query(`SELECT token_hash FROM auth.one_time_tokens WHERE purpose = 'verify_email'`);
    expect(rows.rows.length).toBeGreaterThan(0);
    for (const r of rows.rows) expect(r.token_hash).not.toContain(token);

    const first = await call('POST', '/api/v1/auth/verify-email', { token });
    expect(first.status).toBe(200);
    expect(first.body).toEqual({ emailVerified: true });

    const again = await call('POST', '/api/v1/auth/verify-email', { token });
    expect(again.status).toBe(400);
    expect(again.body.error).toMatchObject({ type: 'invalid_token', code: 'invalid_token' });
    expect(typeof again.body.error.message).toBe('string');

    const me = await call('GET', '/api/v1/auth/me', undefined, await login('ada.lovelace@example.com'));
    expect(me.status).toBe(200);
    expect(me.body).toMatchObject({ email: 'ada.lovelace@example.com', emailVerified: true, role: 'user' });
  });

  it('rejects an unknown token and an expired one with 400 invalid_token', async () => {
    const unknown = await call('POST', '/api/v1/auth/verify-email', { token: 'A'.repeat(43) });
    expect(unknown.status).toBe(400);
    expect(unknown.body.error.code).toBe('invalid_token');

    const created = await signUp('expired-link@example.com');
    const token = linkToken(await sink.take({ to: 'expired-link@example.com', subject: 'Verify' }));
    await db.query(
      `UPDATE auth.one_time_tokens SET expires_at = now() - interval '1 second' WHERE account_id = $1`,
      [created.body.id],
    );
    const expired = await call('POST', '/api/v1/auth/verify-email', { token });
    expect(expired.status).toBe(400);
    expect(expired.body.error.code).toBe('invalid_token');

    const missing = await call('POST', '/api/v1/auth/verify-email', {});
    expect(missing.status).toBe(400);
    expect(missing.body.error.code).toBe('validation_failed');
    expect(missing.body.error.message).toContain('token');
  });

  it('refuses an invalid email, a short password and missing fields with 400 naming the field', async () => {
    const badEmail = await signUp('not-an-email');
    expect(badEmail.status).toBe(400);
    expect(badEmail.body.error.code).toBe('validation_failed');
    expect(badEmail.body.error.message).toMatch(/^email: /);

    const shortPassword = await signUp('short@example.com', '12345');
    expect(shortPassword.status).toBe(400);
    expect(shortPassword.body.error.code).toBe('validation_failed');
    expect(shortPassword.body.error.message).toBe('password: must be at least 6 characters');

    const missing = await call('POST', '/api/v1/auth/signup', { email: 'x@example.com' });
    expect(missing.status).toBe(400);
    expect(missing.body.error.message).toContain('password');

    const noBody = await call('POST', '/api/v1/auth/signup');
    expect(noBody.status).toBe(400);
    expect(noBody.body.error.message).toContain('email');

    // Exactly the minimum is fine.
    expect((await signUp('six@example.com', '123456')).status).toBe(201);
  });

  it('answers 409 email_taken for a registered email, whatever its case or spacing', async () => {
    expect((await signUp('taken@example.com')).status).toBe(201);
    const dup = await signUp(' TAKEN@example.com');
    expect(dup.status).toBe(409);
    expect(dup.body.error).toMatchObject({ type: 'email_taken', code: 'email_taken' });
  });

  it('resends a fresh link (202) to an unverified account, at most one per cooldown, and 202 for anyone', async () => {
    await signUp('resend@example.com');
    const original = linkToken(await sink.take({ to: 'resend@example.com', subject: 'Verify' }));

    const res = await call('POST', '/api/v1/auth/verify-email/resend', { email: 'Resend@Example.com' });
    expect(res.status).toBe(202);
    expect(res.body).toEqual({ accepted: true });
    const fresh = linkToken(await sink.take({ to: 'resend@example.com', subject: 'Verify' }));
    expect(fresh).not.toBe(original);

    // Within the cooldown: same answer, no email.
    expect(
      (await call('POST', '/api/v1/auth/verify-email/resend', { email: 'resend@example.com' })).status,
    ).toBe(202);
    // Unknown address: same answer, no email.
    const unknown = await call('POST', '/api/v1/auth/verify-email/resend', { email: 'nobody@example.com' });
    expect(unknown.status).toBe(202);
    expect(unknown.body).toEqual({ accepted: true });

    // A later email as a marker: everything sent before it has arrived.
    await signUp('marker-1@example.com');
    await sink.take({ to: 'marker-1@example.com' });
    expect(sink.count({ to: 'resend@example.com', subject: 'Verify' })).toBe(2);
    expect(sink.count({ to: 'nobody@example.com' })).toBe(0);

    // Either link works (once): verifying with the first revokes the other.
    expect((await call('POST', '/api/v1/auth/verify-email', { token: fresh })).status).toBe(200);
    expect((await call('POST', '/api/v1/auth/verify-email', { token: original })).body.error.code).toBe(
      'invalid_token',
    );

    // A verified account gets no more verification emails.
    await db.query(`SELECT 1`);
    const verified = await call('POST', '/api/v1/auth/verify-email/resend', {
      email: 'ada.lovelace@example.com',
    });
    expect(verified.status).toBe(202);
    await signUp('marker-2@example.com');
    await sink.take({ to: 'marker-2@example.com' });
    expect(sink.count({ to: 'ada.lovelace@example.com', subject: 'Verify' })).toBe(1);

    const invalid = await call('POST', '/api/v1/auth/verify-email/resend', { email: 'nope' });
    expect(invalid.status).toBe(400);
    expect(invalid.body.error.message).toMatch(/^email: /);
  });

  it('lets an unverified account sign in, but not create keys (403 email_not_verified)', async () => {
    await signUp('no-keys-yet@example.com');
    await sink.take({ to: 'no-keys-yet@example.com', subject: 'Verify' });
    const session = await login('no-keys-yet@example.com');
    const me = await call('GET', '/api/v1/auth/me', undefined, session);
    expect(me.status).toBe(200);
    expect(me.body).toMatchObject({ emailVerified: false, totpEnabled: false, username: null });

    const key = await call('POST', '/api/v1/keys', { name: 'first' }, session);
    expect(key.status).toBe(403);
    expect(key.body.error).toMatchObject({ type: 'email_not_verified', code: 'email_not_verified' });
  });

  it("answers an unverified account's API key with 401 USER_INACTIVE until the email is verified", async () => {
    const created = await signUp('unverified@example.com');
    const token = linkToken(await sink.take({ to: 'unverified@example.com', subject: 'Verify' }));
    // Keys cannot be created while unverified, so give the account one the only way possible: mark it
    // verified in its table, create the key, and take the verification back (the router has not seen it).
    await db.query(`UPDATE auth.accounts SET email_verified_at = now() WHERE id = $1`, [created.body.id]);
    const key = await rpc.send(Subjects.keysApiKeyCreate, { accountId: created.body.id, name: 'unverified' });
    await db.query(`UPDATE auth.accounts SET email_verified_at = NULL WHERE id = $1`, [created.body.id]);

    const before = await fetch(`${stack.url}/v1/models`, { headers: { authorization: `Bearer ${key.key}` } });
    expect(before.status).toBe(401);
    expect(((await before.json()) as any).error.code).toBe('USER_INACTIVE');

    expect((await call('POST', '/api/v1/auth/verify-email', { token })).status).toBe(200);
    const after = await fetch(`${stack.url}/v1/models`, { headers: { authorization: `Bearer ${key.key}` } });
    expect(after.status).toBe(200);
  });

  it('serves the page the email link opens, which acts only when the user presses the button', async () => {
    const res = await fetch(`${stack.url}/auth/verify-email?token=abc`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/html');
    expect(res.headers.get('content-security-policy')).toContain("default-src 'none'");
    expect(res.headers.get('referrer-policy')).toBe('no-referrer');
    const html = await res.text();
    expect(html).toContain('../api/v1/auth/verify-email');
    expect(html).not.toContain('abc');

    const reset = await fetch(`${stack.url}/auth/reset-password?token=abc`);
    expect(reset.status).toBe(200);
    expect(await reset.text()).toContain('../api/v1/auth/password/reset');
  });
});
