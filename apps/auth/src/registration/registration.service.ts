import { Inject, Injectable } from '@nestjs/common';
import type { AuthConfig } from '@torouter/config';
import {
  DomainError,
  ErrorCodes,
  type Accepted,
  type EmailVerified,
  type SignedUpAccount,
} from '@torouter/contracts';
import { APP_CONFIG } from '@torouter/service-runtime';
import { AccountsRepository } from '../accounts/accounts.repository';
import { AccountsService, normaliseEmail } from '../accounts/accounts.service';
import { PasswordHasher } from '../accounts/password-hasher';
import { PasswordPolicy } from '../accounts/password-policy';
import { BackgroundTasks } from '../background/background-tasks';
import { AccountEmails } from '../mail/account-emails';
import { ThrottleService } from '../throttle/throttle.service';
import { OneTimeTokensService } from '../tokens/one-time-tokens.service';

/** Sign-up and email verification. */
@Injectable()
export class RegistrationService {
  constructor(
    private readonly accounts: AccountsRepository,
    private readonly accountsService: AccountsService,
    private readonly background: BackgroundTasks,
    @Inject(APP_CONFIG) private readonly config: AuthConfig,
    private readonly emails: AccountEmails,
    private readonly hasher: PasswordHasher,
    private readonly passwordPolicy: PasswordPolicy,
    private readonly throttle: ThrottleService,
    private readonly tokens: OneTimeTokensService,
  ) {}

  async signUp(req: { email: string; password: string; clientIp: string }): Promise<SignedUpAccount> {
    await this.throttle.perIpHourly('signup', req.clientIp);
    const email = normaliseEmail(req.email);
    this.assertDomainAllowed(email);
    this.passwordPolicy.assertAcceptable('password', req.password);
    const created = await this.accounts.insert({
      email,
      passwordHash: await this.hasher.hash(req.password),
      username: null,
      role: 'user',
      emailVerifiedAt: null,
    });
    if (!created) {
      throw new DomainError(
        ErrorCodes.EMAIL_TAKEN,
        'an account with this email already exists; sign in or reset the password',
      );
    }
    const token = await this.tokens.issueLinkToken(created.id, 'verify_email');
    this.emails.sendVerification(created.email, token);
    return {
      id: created.id,
      email: created.email,
      emailVerified: false,
      createdAt: created.createdAt.toISOString(),
    };
  }

  /** Uses a verification link: the account is verified, every other verification link dies. */
  async confirmEmail(token: string): Promise<EmailVerified> {
    const accountId = await this.accounts.transaction(async (m) => {
      const id = await this.tokens.consumeLinkToken('verify_email', token, m);
      if (!id) return null;
      await this.accounts.markEmailVerified(id, m);
      await this.tokens.revokeAll(id, 'verify_email', m);
      return id;
    });
    if (!accountId) {
      throw new DomainError(
        ErrorCodes.INVALID_TOKEN,
        'this verification link is invalid, already used or expired; request a new one',
      );
    }
    await this.accountsService.announceChange(accountId);
    return { accountId, emailVerified: true };
  }

  /** Same answer for every address; only an unverified account outside its cooldown gets an email. */
  async resendVerification(req: { email: string; clientIp: string }): Promise<Accepted> {
    await this.throttle.perIpHourly('email', req.clientIp);
    const email = normaliseEmail(req.email);
    this.background.run('resend verification email', async () => {
      const account = await this.accounts.findByEmail(email);
      if (!account || account.emailVerifiedAt !== null) return;
      if ((await this.throttle.claimEmailCooldown('verify', account.id)) > 0) return;
      this.emails.sendVerification(
        account.email,
        await this.tokens.issueLinkToken(account.id, 'verify_email'),
      );
    });
    return { accepted: true };
  }

  private assertDomainAllowed(email: string): void {
    const allowed = this.config.ALLOWED_EMAIL_DOMAINS;
    if (allowed.length === 0) return;
    const domain = email.slice(email.lastIndexOf('@') + 1);
    if (!allowed.includes(domain)) {
      const message = `Allowed email domains: ${allowed.join(', ')}`;
      throw new DomainError(ErrorCodes.VALIDATION_FAILED, message, {
        fields: [{ field: 'email', message }],
      });
    }
  }
}
