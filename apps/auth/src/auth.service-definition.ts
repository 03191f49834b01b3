import { Subjects } from '@torouter/contracts';
import type { AuthConfig } from '@torouter/config';
import type { InternalServiceDefinition } from '@torouter/service-runtime';
import { AccountEntity } from './accounts/account.entity';
import { AccountsModule } from './accounts/accounts.module';
import { authMigrations } from './migrations';

/** auth owns accounts, password hashes, email verification, sessions and admin access. */
export const authService: InternalServiceDefinition<AuthConfig> = {
  name: 'auth',
  schema: 'auth',
  defaultHttpPort: 8081,
  healthSubject: Subjects.authHealthCheck,
  entities: [AccountEntity],
  migrations: authMigrations,
  usesRedis: true,
  featureModule: () => AccountsModule,
};
