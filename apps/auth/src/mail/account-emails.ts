import { Inject, Injectable } from '@nestjs/common';
import type { AuthConfig } from '@torouter/config';
import { APP_CONFIG } from '@torouter/service-runtime';
import { Mailer, type OutgoingEmail } from './mailer';

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function render(
  to: string,
  subject: string,
  lines: string[],
  action?: { label: string; url: string },
): OutgoingEmail {
  const text = [...lines, ...(action ? ['', action.url] : []), '', '— ToRouter'].join('\n');
  const html = [
    '<!doctype html><html><body style="font-family:sans-serif;line-height:1.5">',
    ...lines.map((l) => (l ? `<p>${escapeHtml(l)}</p>` : '')),
    action
      ? `<p><a href="${escapeHtml(action.url)}">${escapeHtml(action.label)}</a></p>` +
        `<p style="color:#666;font-size:small">${escapeHtml(action.url)}</p>`
      : '',
    '<p>— ToRouter</p></body></html>',
  ].join('');
  return { to, subject, text, html, action: action?.url };
}

/** The emails the account service sends; links point at PUBLIC_BASE_URL. */
@Injectable()
export class AccountEmails {
  constructor(
    private readonly mailer: Mailer,
    @Inject(APP_CONFIG) private readonly config: AuthConfig,
  ) {}

  private link(path: string, token: string): string {
    const base = this.config.PUBLIC_BASE_URL.endsWith('/')
      ? this.config.PUBLIC_BASE_URL
      : `${this.config.PUBLIC_BASE_URL}/`;
    const url = new URL(path, base);
    url.searchParams.set('token', token);
    return url.toString();
  }

  sendVerification(to: string, token: string): void {
    this.mailer.send(
      render(
        to,
        'Verify your ToRouter email address',
        [
          'Welcome to ToRouter. Open the link below to verify your email address and activate your account.',
          'The link works once and expires in 24 hours. If it has expired, request a new one from the sign-in page.',
          'If you did not sign up, ignore this email.',
        ],
        { label: 'Verify my email', url: this.link('auth/verify-email', token) },
      ),
    );
  }

  sendPasswordReset(to: string, token: string): void {
    this.mailer.send(
      render(
        to,
        'Reset your ToRouter password',
        [
          'Someone (hopefully you) asked to reset the password of this ToRouter account.',
          'Open the link below to choose a new password. It works once and expires in 1 hour.',
          'If you did not ask for this, ignore this email: your password stays as it is.',
        ],
        { label: 'Choose a new password', url: this.link('auth/reset-password', token) },
      ),
    );
  }

  sendTotpEmailCode(to: string, code: string): void {
    const email = render(to, `Your ToRouter verification code: ${code}`, [
      `Your verification code for turning on two-factor authentication is ${code}.`,
      'It expires in 10 minutes. If you did not ask for it, change your password.',
    ]);
    this.mailer.send({ ...email, action: code });
  }

  sendPasswordChangedNotice(to: string): void {
    this.mailer.send(
      render(to, 'Your ToRouter password was changed', [
        'The password of your ToRouter account was just changed.',
        'If this was not you, reset your password now and contact the operator.',
      ]),
    );
  }

  sendTotpDisabledNotice(to: string): void {
    this.mailer.send(
      render(to, 'Two-factor authentication was turned off', [
        'Two-factor authentication was just turned off for your ToRouter account.',
        'If this was not you, reset your password now and contact the operator.',
      ]),
    );
  }
}
