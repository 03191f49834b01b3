import { Module } from '@nestjs/common';
import { AccountsNatsController } from './accounts/accounts.nats.controller';
import { AccountsRepository } from './accounts/accounts.repository';
import { AccountsService } from './accounts/accounts.service';
import { PasswordHasher } from './accounts/password-hasher';
import { PasswordPolicy } from './accounts/password-policy';
import { AdminAccountsNatsController } from './admin/admin-accounts.nats.controller';
import { BackgroundTasks } from './background/background-tasks';
import { KeyedHasher } from './crypto/keyed-hasher';
import { TotpSecretCipher } from './crypto/totp-secret-cipher';
import { AccountEmails } from './mail/account-emails';
import { Mailer } from './mail/mailer';
import { PasswordsNatsController } from './passwords/passwords.nats.controller';
import { PasswordsService } from './passwords/passwords.service';
import { RegistrationNatsController } from './registration/registration.nats.controller';
import { RegistrationService } from './registration/registration.service';
import { SessionsNatsController } from './sessions/sessions.nats.controller';
import { SessionsService } from './sessions/sessions.service';
import { ThrottleService } from './throttle/throttle.service';
import { OneTimeTokensRepository } from './tokens/one-time-tokens.repository';
import { OneTimeTokensService } from './tokens/one-time-tokens.service';
import { RecoveryCodesRepository } from './two-factor/recovery-codes.repository';
import { TwoFactorNatsController } from './two-factor/two-factor.nats.controller';
import { TwoFactorService } from './two-factor/two-factor.service';

/** Everything auth serves over NATS: accounts, sign-up and verification, sessions, passwords, 2FA, admin. */
@Module({
  controllers: [
    AccountsNatsController,
    AdminAccountsNatsController,
    PasswordsNatsController,
    RegistrationNatsController,
    SessionsNatsController,
    TwoFactorNatsController,
  ],
  providers: [
    AccountEmails,
    AccountsRepository,
    AccountsService,
    BackgroundTasks,
    KeyedHasher,
    Mailer,
    OneTimeTokensRepository,
    OneTimeTokensService,
    PasswordHasher,
    PasswordPolicy,
    PasswordsService,
    RecoveryCodesRepository,
    RegistrationService,
    SessionsService,
    ThrottleService,
    TotpSecretCipher,
    TwoFactorService,
  ],
})
export class AuthModule {}
