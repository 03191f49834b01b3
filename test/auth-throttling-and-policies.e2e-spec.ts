import { startSmtpSink, type SmtpSink } from './support/smtp-sink';
import { startTestStack, type TestStack } from './support/test-stack';

/**
 * Configured policies (allowed email domains, a longer minimum password) and throttling per account and
 * per client IP (the router trusts X-Forwarded-For from 127.0.0.1 here, so each test picks its IPs).
 */
describe('account policies and throttling', () => {
  let stack: TestStack;
  let sink: SmtpSink;
  let ipCounter = 0;
  /** A fresh client IP, so tests do not share per-IP budgets unless they mean to. */
  const freshIp = () => `10.9.${Math.floor(++ipCounter / 250)}.${(ipCounter % 250) + 1}`;

  beforeAll(async () => {
    sink = await startSmtpSink();
    stack = await startTestStack({
      seedDemo: false,
      env: {
        SMTP_URL: sink.url,
        TRUSTED_PROXIES: '127.0.0.1/32',
        ALLOWED_EMAIL_DOMAINS: 'example.com, Company.org',
        PASSWORD_MIN_LENGTH: '8',
        AUTH_MAX_FAILURES_PER_ACCOUNT: '3',
        AUTH_MAX_FAILURES_PER_IP: '6',
        AUTH_EMAIL_REQUESTS_PER_IP_PER_HOUR: '3',
        AUTH_SIGNUPS_PER_IP_PER_HOUR: '4',
      },
    });
  });

  afterAll(async () => {
    await stack?.close();
    await sink?.close();
  });

  const call = async (path: string, body: unknown, ip = freshIp()) => {
    const res = await fetch(`${stack.url}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-forwarded-for': ip },
      body: JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, headers: res.headers, body: text ? JSON.parse(text) : undefined };
  };
  const signUp = (email: string, password = 'long-enough-1', ip?: string) =>
    call('/api/v1/auth/signup', { email, password }, ip);
  const login = (email: string, password: string, ip?: string) =>
    call('/api/v1/auth/login', { email, password }, ip);

  it('accepts only the allowed email domains, listing them in the 400', async () => {
    const other = await signUp('someone@other.net');
    expect(other.status).toBe(400);
    expect(other.body.error.code).toBe('validation_failed');
    expect(other.body.error.message).toBe('Allowed email domains: example.com, company.org');
    expect((await signUp('someone@sub.example.com')).status).toBe(400);
    expect((await signUp('someone@COMPANY.org')).status).toBe(201);
    expect((await signUp('someone@example.com')).status).toBe(201);
  });

  it('applies the configured minimum password length', async () => {
    const short = await signUp('short-pass@example.com', '1234567');
    expect(short.status).toBe(400);
    expect(short.body.error.message).toBe('password: must be at least 8 characters');
    expect((await signUp('long-pass@example.com', '12345678')).status).toBe(201);
  });

  it('locks an account after its failed sign-ins, from any IP, with 429 and Retry-After', async () => {
    expect((await signUp('locked@example.com')).status).toBe(201);
    expect((await signUp('bystander@example.com')).status).toBe(201);
    for (let i = 0; i < 3; i++) {
      expect((await login('locked@example.com', 'wrong-password')).body.error.code).toBe(
        'invalid_credentials',
      );
    }
    const locked = await login('locked@example.com', 'long-enough-1');
    expect(locked.status).toBe(429);
    expect(locked.body.error).toMatchObject({ type: 'rate_limited', code: 'rate_limited' });
    const retryAfter = Number(locked.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThan(0);
    expect(retryAfter).toBeLessThanOrEqual(900);

    // Other accounts are unaffected.
    expect((await login('bystander@example.com', 'long-enough-1')).status).toBe(200);
  });

  it('throttles an unknown email exactly like a known one (no enumeration)', async () => {
    for (let i = 0; i < 3; i++) {
      expect((await login('ghost@example.com', 'wrong-password')).status).toBe(401);
    }
    const locked = await login('ghost@example.com', 'wrong-password');
    expect(locked.status).toBe(429);
    expect(locked.headers.get('retry-after')).toMatch(/^\d+$/);
  });

  it('forgets earlier failures after a successful sign-in', async () => {
    expect((await signUp('forgetful@example.com')).status).toBe(201);
    for (let round = 0; round < 3; round++) {
      for (let i = 0; i < 2; i++)
        expect((await login('forgetful@example.com', 'nope-nope')).status).toBe(401);
      expect((await login('forgetful@example.com', 'long-enough-1')).status).toBe(200);
    }
  });

  it('blocks an IP after its failed sign-ins across many accounts, but not other IPs', async () => {
    expect((await signUp('victim@example.com')).status).toBe(201);
    const attacker = '198.51.100.7';
    for (let i = 0; i < 6; i++) {
      expect((await login(`target-${i}@example.com`, 'guess-guess', attacker)).status).toBe(401);
    }
    const blocked = await login('victim@example.com', 'long-enough-1', attacker);
    expect(blocked.status).toBe(429);
    expect(blocked.body.error.code).toBe('rate_limited');
    expect(Number(blocked.headers.get('retry-after'))).toBeGreaterThan(0);
    expect((await login('victim@example.com', 'long-enough-1', '198.51.100.8')).status).toBe(200);
  });

  it('limits email requests per IP (forgot-password and resend share the budget) with 429', async () => {
    const ip = '192.0.2.9';
    for (let i = 0; i < 3; i++) {
      expect((await call('/api/v1/auth/password/forgot', { email: `who-${i}@example.com` }, ip)).status).toBe(
        202,
      );
    }
    const forgot = await call('/api/v1/auth/password/forgot', { email: 'who@example.com' }, ip);
    expect(forgot.status).toBe(429);
    expect(Number(forgot.headers.get('retry-after'))).toBeGreaterThan(0);
    const resend = await call('/api/v1/auth/verify-email/resend', { email: 'who@example.com' }, ip);
    expect(resend.status).toBe(429);
    expect(
      (await call('/api/v1/auth/password/forgot', { email: 'who@example.com' }, '192.0.2.10')).status,
    ).toBe(202);
  });

  it('limits sign-ups per IP with 429', async () => {
    const ip = '192.0.2.50';
    for (let i = 0; i < 4; i++)
      expect((await signUp(`bulk-${i}@example.com`, undefined, ip)).status).toBe(201);
    const fifth = await signUp('bulk-4@example.com', undefined, ip);
    expect(fifth.status).toBe(429);
    expect(fifth.body.error.code).toBe('rate_limited');
    expect(Number(fifth.headers.get('retry-after'))).toBeGreaterThan(3500);
  });
});
