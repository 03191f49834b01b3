import { billingEnvSchema } from '@torouter/config';
import { runInternalServiceMain } from '@torouter/service-runtime';
import { billingService } from './billing.service-definition';

runInternalServiceMain(billingService, billingEnvSchema);
