import { CreateCatalog1763870000000 } from './1763870000000-CreateCatalog';

/** In order. A shipped migration is never edited; add a new one. */
export const routerMigrations = [CreateCatalog1763870000000];
