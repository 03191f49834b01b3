import { Subjects } from '@torouter/contracts';
import type { KeysConfig } from '@torouter/config';
import type { InternalServiceDefinition } from '@torouter/service-runtime';
import { ApiKeyEntity } from './api-keys/api-key.entity';
import { ApiKeysModule } from './api-keys/api-keys.module';
import { keysMigrations } from './migrations';

/** keys owns API keys (hash only) and each key's policy; it announces every change to the routers. */
export const keysService: InternalServiceDefinition<KeysConfig> = {
  name: 'keys',
  schema: 'keys',
  defaultHttpPort: 8082,
  healthSubject: Subjects.keysHealthCheck,
  entities: [ApiKeyEntity],
  migrations: keysMigrations,
  usesRedis: false,
  featureModule: (runtime) => ApiKeysModule.forRuntime(runtime),
};
