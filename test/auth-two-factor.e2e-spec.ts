import { authenticator } from 'otplib';
import { Client } from 'pg';
import { linkToken, startSmtpSink, type SmtpSink } from './support/smtp-sink';
import { startTestStack, type TestStack } from './support/test-stack';

const STEP_MS = 30_000;
const lastStep = new Map<string, number>();

/**
 * A valid TOTP code computed from the secret, as an authenticator app would, for a 30-second step never
 * used before with this secret (the server accepts each step once). Uses the current or next step, which
 * stay within the server's ±1 step window even if a step boundary passes in flight; waits for the next
 * step only when both are used up.
 */
async function nextTotp(secret: string): Promise<string> {
  for (;;) {
    const current = Math.floor(Date.now() / STEP_MS);
    const step = Math.max(current, (lastStep.get(secret) ?? -1) + 1);
    if (step <= current + 1) {
      lastStep.set(secret, step);
      return authenticator.clone({ epoch: step * STEP_MS }).generate(secret);
    }
    await new Promise((r) => setTimeout(r, STEP_MS - (Date.now() % STEP_MS) + 50));
  }
}

/** A currently valid code that is not recorded as used (for attempts that fail before the code is checked). */
function peekTotp(secret: string): string {
  return authenticator.generate(secret);
}

/** Six digits that are not a valid code right now. */
function wrongTotp(secret: string): string {
  const current = Math.floor(Date.now() / STEP_MS);
  const valid = new Set(
    [-2, -1, 0, 1, 2].map((d) => authenticator.clone({ epoch: (current + d) * STEP_MS }).generate(secret)),
  );
  return ['000000', '111111', '222222'].find((c) => !valid.has(c))!;
}

/** Two-factor (TOTP + recovery codes) through the router, codes computed from the returned secret. */
describe('two-factor authentication', () => {
  let stack: TestStack;
  let sink: SmtpSink;
  let db: Client;

  beforeAll(async () => {
    sink = await startSmtpSink();
    stack = await startTestStack({ seedDemo: false, env: { SMTP_URL: sink.url } });
    db = new Client({ connectionString: stack.databaseUrl });
    await db.connect();
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

  const signUpAndLogin = async (email: string, password = 'pass-word-1') => {
    const res = await call('POST', '/api/v1/auth/signup', { email, password });
    expect(res.status).toBe(201);
    const token = linkToken(await sink.take({ to: email, subject: 'Verify' }));
    expect((await call('POST', '/api/v1/auth/verify-email', { token })).status).toBe(200);
    const session = await call('POST', '/api/v1/auth/login', { email, password });
    expect(session.status).toBe(200);
    return { id: res.body.id as string, email, password, session: session.body.accessToken as string };
  };

  const emailCode = async (email: string, session: string): Promise<string> => {
    const res = await call('POST', '/api/v1/auth/totp/email-code', undefined, session);
    expect(res.status).toBe(202);
    const mail = await sink.take({ to: email, subject: 'verification code' });
    const code = /\b(\d{6})\b/.exec(mail.text)?.[1];
    expect(code).toBeDefined();
    return code!;
  };

  /** Runs setup and enable; returns the secret and the recovery codes. */
  const enableTotp = async (acct: { email: string; password: string; session: string }) => {
    const code = await emailCode(acct.email, acct.session);
    const setup = await call(
      'POST',
      '/api/v1/auth/totp/setup',
      { password: acct.password, emailCode: code },
      acct.session,
    );
    expect(setup.status).toBe(200);
    const secret = setup.body.secret as string;
    const enable = await call(
      'POST',
      '/api/v1/auth/totp/enable',
      { code: await nextTotp(secret) },
      acct.session,
    );
    expect(enable.status).toBe(200);
    return { secret, recoveryCodes: enable.body.recoveryCodes as string[] };
  };

  it('turns on with the password, an emailed 6-digit code and a current TOTP code, giving 10 recovery codes', async () => {
    const acct = await signUpAndLogin('totp-on@example.com');

    const early = await call('POST', '/api/v1/auth/totp/enable', { code: '123456' }, acct.session);
    expect(early.status).toBe(409);
    expect(early.body.error.code).toBe('conflict');

    const code = await emailCode(acct.email, acct.session);
    const again = await call('POST', '/api/v1/auth/totp/email-code', undefined, acct.session);
    expect(again.status).toBe(429);
    expect(again.body.error.code).toBe('rate_limited');
    expect(Number(again.headers.get('retry-after'))).toBeGreaterThan(0);

    const noCode = await call('POST', '/api/v1/auth/totp/setup', { password: acct.password }, acct.session);
    expect(noCode.status).toBe(400);
    expect(noCode.body.error.message).toContain('emailCode');

    const wrongPassword = await call(
      'POST',
      '/api/v1/auth/totp/setup',
      { password: 'not-it', emailCode: code },
      acct.session,
    );
    expect(wrongPassword.status).toBe(401);
    expect(wrongPassword.body.error.code).toBe('invalid_credentials');

    const wrongEmailCode = await call(
      'POST',
      '/api/v1/auth/totp/setup',
      { password: acct.password, emailCode: code === '000000' ? '000001' : '000000' },
      acct.session,
    );
    expect(wrongEmailCode.status).toBe(400);
    expect(wrongEmailCode.body.error.code).toBe('invalid_token');

    const setup = await call(
      'POST',
      '/api/v1/auth/totp/setup',
      { password: acct.password, emailCode: code },
      acct.session,
    );
    expect(setup.status).toBe(200);
    const secret = setup.body.secret as string;
    expect(secret).toMatch(/^[A-Z2-7]{32}$/);
    const uri = new URL(setup.body.otpauthUrl);
    expect(uri.protocol).toBe('otpauth:');
    expect(uri.host).toBe('totp');
    expect(uri.searchParams.get('secret')).toBe(secret);
    expect(uri.searchParams.get('issuer')).toBe('ToRouter');
    expect(uri.searchParams.get('digits')).toBe('6');
    expect(uri.searchParams.get('period')).toBe('30');

    // The emailed code worked once.
    const reuse = await call(
      'POST',
      '/api/v1/auth/totp/setup',
      { password: acct.password, emailCode: code },
      acct.session,
    );
    expect(reuse.body.error.code).toBe('invalid_token');

    const bad = await call('POST', '/api/v1/auth/totp/enable', { code: wrongTotp(secret) }, acct.session);
    expect(bad.status).toBe(401);
    expect(bad.body.error.code).toBe('invalid_totp');
    expect((await call('GET', '/api/v1/auth/me', undefined, acct.session)).body.totpEnabled).toBe(false);

    const enable = await call(
      'POST',
      '/api/v1/auth/totp/enable',
      { code: await nextTotp(secret) },
      acct.session,
    );
    expect(enable.status).toBe(200);
    expect(enable.body.totpEnabled).toBe(true);
    const codes = enable.body.recoveryCodes as string[];
    expect(codes).toHaveLength(10);
    expect(new Set(codes).size).toBe(10);
    expect((await call('GET', '/api/v1/auth/me', undefined, acct.session)).body.totpEnabled).toBe(true);

    // At rest: the secret encrypted, recovery codes hashed.
    const row = await db.query(`SELECT totp_secret_enc FROM auth.accounts WHERE id = $1`, [acct.id]);
    expect(row.rows[0].totp_secret_enc).toMatch(/^v1\./);
    expect(row.rows[0].totp_secret_enc).not.toContain(secret);
    const hashes = await db.query(`SELECT code_hash FROM auth.recovery_codes WHERE account_id = $1`, [
      acct.id,
    ]);
    expect(hashes.rows).toHaveLength(10);
    const stored = hashes.rows.map((r) => r.code_hash as string).join(' ');
    for (const c of codes) {
      expect(stored).not.toContain(c);
      expect(stored).not.toContain(c.replace('-', ''));
    }

    const twice = await call('POST', '/api/v1/auth/totp/email-code', undefined, acct.session);
    expect(twice.status).toBe(409);
  });

  it('asks for the code at sign-in; each TOTP code and each recovery code works once', async () => {
    const acct = await signUpAndLogin('totp-login@example.com');
    const { secret, recoveryCodes } = await enableTotp(acct);
    const login = (extra: Record<string, string> = {}) =>
      call('POST', '/api/v1/auth/login', { email: acct.email, password: acct.password, ...extra });

    const required = await login();
    expect(required.status).toBe(401);
    expect(required.body.error).toMatchObject({ type: 'totp_required', code: 'totp_required' });

    const wrongPassword = await call('POST', '/api/v1/auth/login', {
      email: acct.email,
      password: 'nope-nope',
      totpCode: peekTotp(secret),
    });
    expect(wrongPassword.body.error.code).toBe('invalid_credentials');

    const bad = await login({ totpCode: wrongTotp(secret) });
    expect(bad.status).toBe(401);
    expect(bad.body.error.code).toBe('invalid_totp');

    const code = await nextTotp(secret);
    const ok = await login({ totpCode: code });
    expect(ok.status).toBe(200);
    expect((await call('GET', '/api/v1/auth/me', undefined, ok.body.accessToken)).status).toBe(200);

    const replay = await login({ totpCode: code });
    expect(replay.status).toBe(401);
    expect(replay.body.error.code).toBe('invalid_totp');

    const viaRecovery = await login({ recoveryCode: recoveryCodes[0].toUpperCase() });
    expect(viaRecovery.status).toBe(200);
    const recoveryReused = await login({ recoveryCode: recoveryCodes[0] });
    expect(recoveryReused.status).toBe(401);
    expect(recoveryReused.body.error.code).toBe('invalid_totp');
    expect((await login({ recoveryCode: 'aaaaa-bbbbb' })).body.error.code).toBe('invalid_totp');
  });

  it('stays on after a password reset', async () => {
    const acct = await signUpAndLogin('totp-reset@example.com');
    const { recoveryCodes } = await enableTotp(acct);
    expect((await call('POST', '/api/v1/auth/password/forgot', { email: acct.email })).status).toBe(202);
    const token = linkToken(await sink.take({ to: acct.email, subject: 'Reset' }));
    expect(
      (await call('POST', '/api/v1/auth/password/reset', { token, password: 'new-pass-22' })).status,
    ).toBe(200);

    const required = await call('POST', '/api/v1/auth/login', { email: acct.email, password: 'new-pass-22' });
    expect(required.body.error.code).toBe('totp_required');
    const ok = await call('POST', '/api/v1/auth/login', {
      email: acct.email,
      password: 'new-pass-22',
      recoveryCode: recoveryCodes[1],
    });
    expect(ok.status).toBe(200);
    expect((await call('GET', '/api/v1/auth/me', undefined, ok.body.accessToken)).body.totpEnabled).toBe(
      true,
    );
  });

  it('turns off with the password and a TOTP code, after which the password alone signs in', async () => {
    const acct = await signUpAndLogin('totp-off@example.com');
    const { secret } = await enableTotp(acct);

    const wrongPassword = await call(
      'POST',
      '/api/v1/auth/totp/disable',
      { password: 'not-it', code: peekTotp(secret) },
      acct.session,
    );
    expect(wrongPassword.status).toBe(401);
    expect(wrongPassword.body.error.code).toBe('invalid_credentials');

    const wrongCode = await call(
      'POST',
      '/api/v1/auth/totp/disable',
      { password: acct.password, code: wrongTotp(secret) },
      acct.session,
    );
    expect(wrongCode.status).toBe(401);
    expect(wrongCode.body.error.code).toBe('invalid_totp');

    const neither = await call(
      'POST',
      '/api/v1/auth/totp/disable',
      { password: acct.password },
      acct.session,
    );
    expect(neither.status).toBe(400);
    expect(neither.body.error.message).toMatch(/^code: /);

    const off = await call(
      'POST',
      '/api/v1/auth/totp/disable',
      { password: acct.password, code: await nextTotp(secret) },
      acct.session,
    );
    expect(off.status).toBe(200);
    expect(off.body).toEqual({ totpEnabled: false });
    await sink.take({ to: acct.email, subject: 'Two-factor authentication was turned off' });

    const login = await call('POST', '/api/v1/auth/login', { email: acct.email, password: acct.password });
    expect(login.status).toBe(200);
    expect((await call('GET', '/api/v1/auth/me', undefined, login.body.accessToken)).body.totpEnabled).toBe(
      false,
    );
    const rows = await db.query(
      `SELECT (SELECT count(*) FROM auth.recovery_codes WHERE account_id = $1)::int AS codes,
              totp_secret_enc FROM auth.accounts WHERE id = $1`,
      [acct.id],
    );
    expect(rows.rows[0]).toEqual({ codes: 0, totp_secret_enc: null });

    const notOn = await call(
      'POST',
      '/api/v1/auth/totp/disable',
      { password: acct.password, code: '123456' },
      acct.session,
    );
    expect(notOn.status).toBe(409);
  });

  it('turns off with a recovery code instead of a TOTP code', async () => {
    const acct = await signUpAndLogin('totp-off-recovery@example.com');
    const { recoveryCodes } = await enableTotp(acct);
    const off = await call(
      'POST',
      '/api/v1/auth/totp/disable',
      { password: acct.password, recoveryCode: recoveryCodes[9] },
      acct.session,
    );
    expect(off.status).toBe(200);
    expect((await call('GET', '/api/v1/auth/me', undefined, acct.session)).body.totpEnabled).toBe(false);
  });

  it('needs a session for every two-factor route', async () => {
    for (const path of ['email-code', 'setup', 'enable', 'disable']) {
      const res = await call('POST', `/api/v1/auth/totp/${path}`, {});
      expect(res.status).toBe(401);
      expect(res.body.error.code).toBe('unauthorized');
    }
  });
});
