import { keysEnvSchema } from '@torouter/config';
import { runInternalServiceMain } from '@torouter/service-runtime';
import { keysService } from './keys.service-definition';

runInternalServiceMain(keysService, keysEnvSchema);
