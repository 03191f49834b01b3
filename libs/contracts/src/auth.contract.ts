import { z } from 'zod';
import { Subjects } from './subjects';

const uuid = z.string().uuid();

// ---- auth ------------------------------------------------------------------------------------------
export const AccountRole = z.enum(['user', 'admin']);
export type AccountRole = z.infer<typeof AccountRole>;

export const AccountCreateRequest = z.object({
  email: z.string().email().max(320),
  password: z.string().min(1).max(1024),
  username: z.string().min(1).max(64).optional(),
  role: AccountRole.default('user'),
  /** Only trusted callers (seed, admin) may create an already verified account. */
  emailVerified: z.boolean().default(false),
});
export type AccountCreateRequest = z.input<typeof AccountCreateRequest>;

export interface AccountView {
  id: string;
  email: string;
  username: string | null;
  role: AccountRole;
  emailVerified: boolean;
  suspended: boolean;
  createdAt: string;
}

export const AccountFindByEmailRequest = z.object({ email: z.string().min(1).max(320) });
export type AccountFindByEmailRequest = z.infer<typeof AccountFindByEmailRequest>;

export const AccountStatusRequest = z.object({ accountId: uuid });
export type AccountStatusRequest = z.infer<typeof AccountStatusRequest>;
/** What the data plane needs to know about an account to admit a request. */
export interface AccountStatus {
  accountId: string;
  exists: boolean;
  /** Verified and not suspended: its API keys may call the data plane. */
  active: boolean;
  emailVerified: boolean;
  suspended: boolean;
  role: AccountRole;
  /** Sessions issued under an older epoch are revoked. */
  sessionEpoch: number;
}

export const AccountChangedEvent = z.object({ accountId: uuid });
export type AccountChangedEvent = z.infer<typeof AccountChangedEvent>;

export interface AuthRpcContracts {
  [Subjects.authAccountCreate]: { request: AccountCreateRequest; response: AccountView };
  [Subjects.authAccountFindByEmail]: { request: AccountFindByEmailRequest; response: AccountView | null };
  [Subjects.authAccountStatusGet]: { request: AccountStatusRequest; response: AccountStatus };
}

export interface AuthEventContracts {
  [Subjects.authAccountChanged]: AccountChangedEvent;
}
