import { Inject, Injectable } from '@nestjs/common';
import type { AuthConfig } from '@torouter/config';
import { DomainError, ErrorCodes, type SessionIssued } from '@torouter/contracts';
import { APP_CONFIG } from '@torouter/service-runtime';
import { SESSION_TTL_SECONDS, signSessionToken } from '@torouter/session-token';
import { AccountsRepository } from '../accounts/accounts.repository';
import { normaliseEmail } from '../accounts/accounts.service';
import { PasswordHasher } from '../accounts/password-hasher';
import { ThrottleService } from '../throttle/throttle.service';
import { TwoFactorService } from '../two-factor/two-factor.service';

const invalidCredentials = () =>
  new DomainError(ErrorCodes.INVALID_CREDENTIALS, 'the email or password is wrong');

/**
 * Sign-in: password (argon2id), then the second factor when it is on, then a short-lived session JWT
 * carrying the account's session epoch. Unverified and suspended accounts may sign in (they cannot
 * create keys). Every attempt is counted per account and per IP before any check runs.
 */
@Injectable()
export class SessionsService {
  constructor(
    private readonly accounts: AccountsRepository,
    @Inject(APP_CONFIG) private readonly config: AuthConfig,
    private readonly hasher: PasswordHasher,
    private readonly throttle: ThrottleService,
    private readonly twoFactor: TwoFactorService,
  ) {}

  async login(req: {
    email: string;
    password: string;
    totpCode?: string;
    recoveryCode?: string;
    clientIp: string;
  }): Promise<SessionIssued> {
    const email = normaliseEmail(req.email);
    const account = await this.accounts.findByEmailWithSecrets(email);
    const attempt = await this.throttle.beginCredentialAttempt(
      account ? account.id : `email:${email}`,
      req.clientIp,
    );
    // An unknown email costs the same argon2 work as a wrong password, and gets the same answer.
    const passwordOk = account
      ? await this.hasher.verify(account.passwordHash, req.password)
      : await this.hasher.verifyAgainstNothing(req.password);
    if (!account || !passwordOk) {
      attempt.failed();
      throw invalidCredentials();
    }
    if (account.totpEnabledAt) {
      const outcome = await this.twoFactor.verifySecondFactor(account, req);
      if (outcome === 'missing') {
        // The password was right; asking for the code is not a failed guess.
        await attempt.refund();
        throw new DomainError(
          ErrorCodes.TOTP_REQUIRED,
          'two-factor authentication is on: send totpCode (or a recoveryCode)',
        );
      }
      if (outcome === 'invalid') {
        attempt.failed();
        throw new DomainError(ErrorCodes.INVALID_TOTP, 'the two-factor code is wrong or already used');
      }
    }
    await attempt.succeeded();
    if (this.hasher.needsRehash(account.passwordHash)) {
      await this.accounts.updatePassword(account.id, await this.hasher.hash(req.password), {
        revokeSessions: false,
      });
    }
    const accessToken = await signSessionToken(
      { sub: account.id, role: account.role, epoch: account.sessionEpoch },
      this.config.TOROUTER_SECRET,
    );
    return { accessToken, tokenType: 'Bearer', expiresIn: SESSION_TTL_SECONDS };
  }
}
