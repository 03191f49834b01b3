import { authEnvSchema } from '@torouter/config';
import { runInternalServiceMain } from '@torouter/service-runtime';
import { authService } from './auth.service-definition';

runInternalServiceMain(authService, authEnvSchema);
