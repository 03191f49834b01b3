import { Subjects } from '@torouter/contracts';
import type { BillingConfig } from '@torouter/config';
import type { InternalServiceDefinition } from '@torouter/service-runtime';
import { BillingModule } from './billing.module';
import { billingMigrations } from './migrations';

/** billing owns money: the ledger and balances, top-ups, plans, subscriptions, reservations and settlement. */
export const billingService: InternalServiceDefinition<BillingConfig> = {
  name: 'billing',
  schema: 'billing',
  defaultHttpPort: 8083,
  healthSubject: Subjects.billingHealthCheck,
  entities: [],
  migrations: billingMigrations,
  usesRedis: true,
  featureModule: () => BillingModule,
};
