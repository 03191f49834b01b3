import { Subjects } from '@torouter/contracts';
import type { AuthConfig } from '@torouter/config';
import type { InternalServiceDefinition } from '@torouter/service-runtime';
import { AccountEntity } from './accounts/account.entity';
import { AuthModule } from './auth.module';
import { authMigrations } from './migrations';
import { OneTimeTokenEntity } from './tokens/one-time-token.entity';
import { RecoveryCodeEntity } from './two-factor/recovery-code.entity';

/** auth owns accounts, password hashes, email verification, sessions, two-factor and admin access. */
export const authService: InternalServiceDefinition<AuthConfig> = {
  name: 'auth',
  schema: 'auth',
  defaultHttpPort: 8081,
  healthSubject: Subjects.authHealthCheck,
  entities: [AccountEntity, OneTimeTokenEntity, RecoveryCodeEntity],
  migrations: authMigrations,
  usesRedis: true,
  featureModule: () => AuthModule,
};
