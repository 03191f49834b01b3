import { Inject, Injectable, Logger, type OnModuleDestroy } from '@nestjs/common';
import type { AuthConfig } from '@torouter/config';
import { APP_CONFIG } from '@torouter/service-runtime';
import nodemailer, { type Transporter } from 'nodemailer';

export interface OutgoingEmail {
  to: string;
  subject: string;
  text: string;
  html: string;
  /** The link or code the email carries, shown on its own line when the email goes to the log. */
  action?: string;
}

/**
 * Sends account emails through SMTP_URL (nodemailer). Without SMTP_URL the message is written to the
 * log instead, so a local user can still follow a verification or reset link.
 *
 * Sending happens off the request path: the answer to "forgot password" must not take longer when the
 * address exists (that would reveal it), and a slow or failing mail server must not fail sign-up (the
 * user can ask for the email again). Failures are logged without the message body.
 */
@Injectable()
export class Mailer implements OnModuleDestroy {
  private readonly logger = new Logger(Mailer.name);
  private readonly transport: Transporter | null;
  private readonly inFlight = new Set<Promise<void>>();

  constructor(@Inject(APP_CONFIG) config: AuthConfig) {
    this.transport = config.SMTP_URL
      ? nodemailer.createTransport(
          { url: config.SMTP_URL, connectionTimeout: 10_000, greetingTimeout: 10_000, socketTimeout: 30_000 },
          { from: config.SMTP_FROM },
        )
      : null;
  }

  /** Queues the email and returns at once. */
  send(email: OutgoingEmail): void {
    const p = this.deliver(email).finally(() => this.inFlight.delete(p));
    this.inFlight.add(p);
  }

  private async deliver(email: OutgoingEmail): Promise<void> {
    if (!this.transport) {
      this.logger.warn({
        msg: 'SMTP_URL is not set: this email was not sent; it is shown here instead',
        to: email.to,
        subject: email.subject,
        action: email.action,
        text: email.text,
      });
      return;
    }
    try {
      const { to, subject, text, html } = email;
      await this.transport.sendMail({ to, subject, text, html });
    } catch (e) {
      const reason = e instanceof Error ? e.message : String(e);
      this.logger.error(`could not send "${email.subject}" to ${email.to}: ${reason}`);
    }
  }

  /** Lets queued emails finish before the process exits. */
  async onModuleDestroy(): Promise<void> {
    await Promise.allSettled([...this.inFlight]);
    this.transport?.close();
  }
}
