import { usageEnvSchema } from '@torouter/config';
import { runInternalServiceMain } from '@torouter/service-runtime';
import { usageService } from './usage.service-definition';

runInternalServiceMain(usageService, usageEnvSchema);
