import { CreateAccounts1763870000000 } from './1763870000000-CreateAccounts';
import { AccountSecurity1763900000000 } from './1763900000000-AccountSecurity';

/** In order. A shipped migration is never edited; add a new one. */
export const authMigrations = [CreateAccounts1763870000000, AccountSecurity1763900000000];
