import { InitUsageSchema1763870000000 } from './1763870000000-InitSchema';
import { CreateRequestLogs1763950000000 } from './1763950000000-CreateRequestLogs';

/** In order. A shipped migration is never edited; add a new one. */
export const usageMigrations = [InitUsageSchema1763870000000, CreateRequestLogs1763950000000];
