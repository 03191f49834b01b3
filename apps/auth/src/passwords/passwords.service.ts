import { Injectable } from '@nestjs/common';
import {
  DomainError,
  ErrorCodes,
  type Accepted,
  type PasswordChanged,
  type PasswordResetDone,
} from '@torouter/contracts';
import { AccountsRepository } from '../accounts/accounts.repository';
import { AccountsService, normaliseEmail } from '../accounts/accounts.service';
import { PasswordHasher } from '../accounts/password-hasher';
import { PasswordPolicy } from '../accounts/password-policy';
import { BackgroundTasks } from '../background/background-tasks';
import { AccountEmails } from '../mail/account-emails';
import { ThrottleService } from '../throttle/throttle.service';
import { OneTimeTokensService } from '../tokens/one-time-tokens.service';

/** Forgotten-password reset by email link, and changing the password while signed in. */
@Injectable()
export class PasswordsService {
  constructor(
    private readonly accounts: AccountsRepository,
    private readonly accountsService: AccountsService,
    private readonly background: BackgroundTasks,
    private readonly emails: AccountEmails,
    private readonly hasher: PasswordHasher,
    private readonly passwordPolicy: PasswordPolicy,
    private readonly throttle: ThrottleService,
    private readonly tokens: OneTimeTokensService,
  ) {}

  /** The same answer, in the same time, whether or not the address has an account. */
  async requestReset(req: { email: string; clientIp: string }): Promise<Accepted> {
    await this.throttle.perIpHourly('email', req.clientIp);
    const email = normaliseEmail(req.email);
    this.background.run('password reset email', async () => {
      const account = await this.accounts.findByEmail(email);
      if (!account) return;
      if ((await this.throttle.claimEmailCooldown('reset', account.id)) > 0) return;
      this.emails.sendPasswordReset(
        account.email,
        await this.tokens.issueLinkToken(account.id, 'reset_password'),
      );
    });
    return { accepted: true };
  }

  /**
   * Uses a reset link: new password, every session issued before revoked (session epoch bumped), every
   * other reset link dead. API keys and two-factor are untouched.
   */
  async confirmReset(req: { token: string; password: string }): Promise<PasswordResetDone> {
    // Checked before the link is used, so a too-short password does not burn it.
    this.passwordPolicy.assertAcceptable('password', req.password);
    const passwordHash = await this.hasher.hash(req.password);
    const accountId = await this.accounts.transaction(async (m) => {
      const id = await this.tokens.consumeLinkToken('reset_password', req.token, m);
      if (!id) return null;
      await this.accounts.updatePassword(id, passwordHash, { revokeSessions: true }, m);
      await this.tokens.revokeAll(id, 'reset_password', m);
      return id;
    });
    if (!accountId) {
      throw new DomainError(
        ErrorCodes.INVALID_TOKEN,
        'this reset link is invalid, already used or expired; request a new one',
      );
    }
    await this.accountsService.announceChange(accountId);
    await this.throttle.clearAccountFailures(accountId);
    const account = await this.accounts.findById(accountId);
    if (account) this.emails.sendPasswordChangedNotice(account.email);
    return { accountId, passwordChanged: true };
  }

  /** Needs the current password (throttled like sign-in). The caller's session stays valid. */
  async changePassword(req: {
    accountId: string;
    currentPassword: string;
    newPassword: string;
    clientIp: string;
  }): Promise<PasswordChanged> {
    this.passwordPolicy.assertAcceptable('newPassword', req.newPassword);
    const account = await this.accounts.findByIdWithSecrets(req.accountId);
    if (!account) throw new DomainError(ErrorCodes.UNAUTHORIZED, 'this account no longer exists');
    const attempt = await this.throttle.beginCredentialAttempt(account.id, req.clientIp);
    if (!(await this.hasher.verify(account.passwordHash, req.currentPassword))) {
      attempt.failed();
      throw new DomainError(ErrorCodes.INVALID_CREDENTIALS, 'currentPassword is wrong');
    }
    await attempt.succeeded();
    await this.accounts.updatePassword(account.id, await this.hasher.hash(req.newPassword), {
      revokeSessions: false,
    });
    this.emails.sendPasswordChangedNotice(account.email);
    return { passwordChanged: true };
  }
}
