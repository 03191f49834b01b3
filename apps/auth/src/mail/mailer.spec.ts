import { Logger, type LoggerService } from '@nestjs/common';
import { authEnvSchema, loadConfig } from '@torouter/config';
import { AccountEmails } from './account-emails';
import { Mailer } from './mailer';

/** Without SMTP_URL a local user must still be able to follow the link: the email goes to the log. */
describe('account emails without SMTP_URL', () => {
  const lines: unknown[] = [];
  const capture: LoggerService = {
    log: (m: unknown) => lines.push(m),
    warn: (m: unknown) => lines.push(m),
    error: (m: unknown) => lines.push(m),
  };

  beforeAll(() => Logger.overrideLogger(capture));
  afterAll(() => Logger.overrideLogger(new Logger()));

  it('writes the whole message, link included, to the log instead of sending it', async () => {
    const config = loadConfig(authEnvSchema, {
      TOROUTER_SECRET: 'x'.repeat(32),
      TOROUTER_ADMIN_TOKEN: 'y'.repeat(24),
      PUBLIC_BASE_URL: 'http://localhost:9999/base',
    });
    const mailer = new Mailer(config);
    const emails = new AccountEmails(mailer, config);
    emails.sendVerification('ada@example.com', 'tok_123');
    emails.sendPasswordReset('ada@example.com', 'tok_456');
    await mailer.onModuleDestroy();

    const logged = lines as Array<Record<string, string>>;
    expect(logged).toHaveLength(2);
    expect(logged[0]).toMatchObject({
      to: 'ada@example.com',
      subject: 'Verify your ToRouter email address',
      action: 'http://localhost:9999/base/auth/verify-email?token=tok_123',
    });
    expect(logged[0].text).toContain('http://localhost:9999/base/auth/verify-email?token=tok_123');
    expect(logged[0].msg).toContain('SMTP_URL is not set');
    expect(logged[1].action).toBe('http://localhost:9999/base/auth/reset-password?token=tok_456');
  });
});
