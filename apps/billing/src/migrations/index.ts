import { InitBillingSchema1763870000000 } from './1763870000000-InitSchema';
import { CreateBilling1763980000000 } from './1763980000000-CreateBilling';
import { BatchedSettlement1764500000000 } from './1764500000000-BatchedSettlement';

/** In order. A shipped migration is never edited; add a new one. */
export const billingMigrations = [
  InitBillingSchema1763870000000,
  CreateBilling1763980000000,
  BatchedSettlement1764500000000,
];
