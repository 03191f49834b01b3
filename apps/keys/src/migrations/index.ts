import { CreateApiKeys1763870000000 } from './1763870000000-CreateApiKeys';
import { ApiKeyPolicy1763960000000 } from './1763960000000-ApiKeyPolicy';

/** In order. A shipped migration is never edited; add a new one. */
export const keysMigrations = [CreateApiKeys1763870000000, ApiKeyPolicy1763960000000];
