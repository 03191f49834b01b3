import { InitUsageSchema1763870000000 } from './1763870000000-InitSchema';

/** In order. A shipped migration is never edited; add a new one. */
export const usageMigrations = [InitUsageSchema1763870000000];
