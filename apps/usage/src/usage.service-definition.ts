import { Subjects } from '@torouter/contracts';
import type { UsageConfig } from '@torouter/config';
import type { InternalServiceDefinition } from '@torouter/service-runtime';
import { UsageModule } from './usage.module';
import { usageMigrations } from './migrations';

/** usage owns the per-request usage log, its aggregates and the CSV export. */
export const usageService: InternalServiceDefinition<UsageConfig> = {
  name: 'usage',
  schema: 'usage',
  defaultHttpPort: 8084,
  healthSubject: Subjects.usageHealthCheck,
  entities: [],
  migrations: usageMigrations,
  usesRedis: false,
  featureModule: () => UsageModule,
};
