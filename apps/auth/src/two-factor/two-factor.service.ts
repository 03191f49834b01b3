import { Injectable, Logger } from '@nestjs/common';
import {
  DomainError,
  ErrorCodes,
  type Accepted,
  type TotpDisabled,
  type TotpEnabled,
  type TotpSetupStarted,
} from '@torouter/contracts';
import { AccountsRepository, type AccountWithSecrets } from '../accounts/accounts.repository';
import { PasswordHasher } from '../accounts/password-hasher';
import { KeyedHasher } from '../crypto/keyed-hasher';
import { TotpSecretCipher } from '../crypto/totp-secret-cipher';
import { AccountEmails } from '../mail/account-emails';
import { ThrottleService, type CredentialAttempt } from '../throttle/throttle.service';
import { OneTimeTokensService } from '../tokens/one-time-tokens.service';
import { newRecoveryCode, normaliseRecoveryCode, RECOVERY_CODE_COUNT } from './recovery-codes';
import { RecoveryCodesRepository } from './recovery-codes.repository';
import { matchTotpStep, newTotpSecret, totpKeyUri } from './totp';

export type SecondFactorOutcome = 'ok' | 'missing' | 'invalid';

function conflict(message: string): DomainError {
  return new DomainError(ErrorCodes.CONFLICT, message);
}

/**
 * TOTP two-factor (RFC 6238) with single-use recovery codes. Turning it on takes the current password and
 * a 6-digit code sent to the account's email, then a code from the authenticator; turning it off takes
 * the password and a TOTP or recovery code. Wrong passwords and codes count as failed attempts.
 */
@Injectable()
export class TwoFactorService {
  private readonly logger = new Logger(TwoFactorService.name);

  constructor(
    private readonly accounts: AccountsRepository,
    private readonly cipher: TotpSecretCipher,
    private readonly emails: AccountEmails,
    private readonly hasher: PasswordHasher,
    private readonly keyedHasher: KeyedHasher,
    private readonly recoveryCodes: RecoveryCodesRepository,
    private readonly throttle: ThrottleService,
    private readonly tokens: OneTimeTokensService,
  ) {}

  private async account(accountId: string): Promise<AccountWithSecrets> {
    const a = await this.accounts.findByIdWithSecrets(accountId);
    if (!a) throw new DomainError(ErrorCodes.UNAUTHORIZED, 'this account no longer exists');
    return a;
  }

  /** Step one: a 6-digit code to the account's email (one per cooldown). */
  async sendEmailCode(req: { accountId: string; clientIp: string }): Promise<Accepted> {
    const a = await this.account(req.accountId);
    if (a.totpEnabledAt) throw conflict('two-factor authentication is already on');
    await this.throttle.perIpHourly('email', req.clientIp);
    const waitMs = await this.throttle.claimEmailCooldown('totp-code', a.id);
    if (waitMs > 0) throw this.throttle.cooldownError(waitMs);
    this.emails.sendTotpEmailCode(a.email, await this.tokens.issueEmailCode(a.id));
    return { accepted: true };
  }

  /** Step two: password + emailed code → a new secret (not active until `enable`). */
  async setup(req: {
    accountId: string;
    password: string;
    emailCode: string;
    clientIp: string;
  }): Promise<TotpSetupStarted> {
    const a = await this.account(req.accountId);
    if (a.totpEnabledAt) throw conflict('two-factor authentication is already on; turn it off first');
    const attempt = await this.throttle.beginCredentialAttempt(a.id, req.clientIp);
    await this.checkPassword(a, req.password, attempt);
    if (!(await this.tokens.consumeEmailCode(a.id, req.emailCode))) {
      attempt.failed();
      throw new DomainError(
        ErrorCodes.INVALID_TOKEN,
        'emailCode is wrong or expired; request a new one with POST /api/v1/auth/totp/email-code',
      );
    }
    await attempt.succeeded();
    const secret = newTotpSecret();
    if (!(await this.accounts.setPendingTotpSecret(a.id, this.cipher.encrypt(secret, a.id)))) {
      throw conflict('two-factor authentication is already on');
    }
    return { secret, otpauthUrl: totpKeyUri(a.email, secret) };
  }

  /** Step three: a current code from the authenticator → two-factor on, ten recovery codes (shown once). */
  async enable(req: { accountId: string; code: string; clientIp: string }): Promise<TotpEnabled> {
    const a = await this.account(req.accountId);
    if (a.totpEnabledAt) throw conflict('two-factor authentication is already on');
    if (!a.totpSecretEnc) throw conflict('start with POST /api/v1/auth/totp/setup');
    const attempt = await this.throttle.beginCredentialAttempt(a.id, req.clientIp);
    const secret = this.decryptSecret(a);
    const step = secret === null ? null : matchTotpStep(req.code, secret);
    if (step === null) {
      attempt.failed();
      throw new DomainError(
        ErrorCodes.INVALID_TOTP,
        'code does not match the authenticator; try the current one',
      );
    }
    const codes = Array.from({ length: RECOVERY_CODE_COUNT }, newRecoveryCode);
    const enabled = await this.accounts.transaction(async (m) => {
      if (!(await this.accounts.enableTotp(a.id, step, m))) return false;
      await this.recoveryCodes.replaceAll(
        a.id,
        codes.map((c) => this.keyedHasher.recoveryCode(a.id, normaliseRecoveryCode(c))),
        m,
      );
      return true;
    });
    if (!enabled) throw conflict('two-factor authentication is already on');
    await attempt.succeeded();
    return { totpEnabled: true, recoveryCodes: codes };
  }

  async disable(req: {
    accountId: string;
    password: string;
    code?: string;
    recoveryCode?: string;
    clientIp: string;
  }): Promise<TotpDisabled> {
    const a = await this.account(req.accountId);
    if (!a.totpEnabledAt) throw conflict('two-factor authentication is not on');
    const attempt = await this.throttle.beginCredentialAttempt(a.id, req.clientIp);
    await this.checkPassword(a, req.password, attempt);
    const outcome = await this.verifySecondFactor(a, { totpCode: req.code, recoveryCode: req.recoveryCode });
    if (outcome !== 'ok') {
      attempt.failed();
      throw new DomainError(
        ErrorCodes.INVALID_TOTP,
        outcome === 'missing'
          ? 'send code or recoveryCode'
          : 'the code or recovery code is wrong or already used',
      );
    }
    await this.accounts.transaction(async (m) => {
      await this.accounts.disableTotp(a.id, m);
      await this.recoveryCodes.deleteAll(a.id, m);
    });
    await attempt.succeeded();
    this.emails.sendTotpDisabledNotice(a.email);
    return { totpEnabled: false };
  }

  /**
   * Checks a TOTP code (each time step accepted once) or uses a recovery code (once). `missing` when the
   * account has two-factor on and neither was sent.
   */
  async verifySecondFactor(
    a: AccountWithSecrets,
    input: { totpCode?: string; recoveryCode?: string },
  ): Promise<SecondFactorOutcome> {
    if (input.recoveryCode !== undefined) {
      const normalised = normaliseRecoveryCode(input.recoveryCode);
      if (!normalised) return 'invalid';
      const used = await this.recoveryCodes.consume(a.id, this.keyedHasher.recoveryCode(a.id, normalised));
      return used ? 'ok' : 'invalid';
    }
    if (input.totpCode !== undefined) {
      const secret = this.decryptSecret(a);
      const step = secret === null ? null : matchTotpStep(input.totpCode, secret);
      if (step === null) return 'invalid';
      return (await this.accounts.claimTotpStep(a.id, step)) ? 'ok' : 'invalid';
    }
    return 'missing';
  }

  private async checkPassword(
    a: AccountWithSecrets,
    password: string,
    attempt: CredentialAttempt,
  ): Promise<void> {
    if (!(await this.hasher.verify(a.passwordHash, password))) {
      attempt.failed();
      throw new DomainError(ErrorCodes.INVALID_CREDENTIALS, 'password is wrong');
    }
  }

  private decryptSecret(a: AccountWithSecrets): string | null {
    if (!a.totpSecretEnc) return null;
    try {
      return this.cipher.decrypt(a.totpSecretEnc, a.id);
    } catch (e) {
      // Only if TOROUTER_SECRET changed or the row was tampered with; the account can use a recovery code.
      this.logger.error(`cannot decrypt the TOTP secret of account ${a.id}: ${(e as Error).message}`);
      return null;
    }
  }
}
