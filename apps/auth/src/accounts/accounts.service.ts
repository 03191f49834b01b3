import { Injectable, Logger } from '@nestjs/common';
import {
  DomainError,
  ErrorCodes,
  Subjects,
  type AccountCreateRequest,
  type AccountListQuery,
  type AccountPage,
  type AccountProfile,
  type AccountStatus,
  type AccountUpdateRequest,
  type AccountView,
} from '@torouter/contracts';
import { EventBus } from '@torouter/messaging';
import type { AccountEntity } from './account.entity';
import { AccountsRepository } from './accounts.repository';
import { PasswordHasher } from './password-hasher';

/** Trimmed and lower-cased: the one form emails are stored, looked up and throttled under. */
export function normaliseEmail(email: string): string {
  return email.trim().toLowerCase();
}

export function toAccountView(a: AccountEntity): AccountView {
  return {
    id: a.id,
    email: a.email,
    username: a.username,
    role: a.role,
    emailVerified: a.emailVerifiedAt !== null,
    suspended: a.suspendedAt !== null,
    totpEnabled: a.totpEnabledAt !== null,
    createdAt: a.createdAt.toISOString(),
  };
}

export function toAccountProfile(a: AccountEntity): AccountProfile {
  return {
    id: a.id,
    email: a.email,
    username: a.username,
    emailVerified: a.emailVerifiedAt !== null,
    role: a.role,
    totpEnabled: a.totpEnabledAt !== null,
    suspended: a.suspendedAt !== null,
    createdAt: a.createdAt.toISOString(),
  };
}

function accountNotFound(): DomainError {
  return new DomainError(ErrorCodes.NOT_FOUND, 'no such account');
}

function encodeCursor(id: string): string {
  return Buffer.from(id, 'utf8').toString('base64url');
}

function decodeCursor(cursor: string): string {
  const id = Buffer.from(cursor, 'base64url').toString('utf8');
  if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/.test(id)) {
    throw new DomainError(ErrorCodes.VALIDATION_FAILED, 'cursor: must be a nextCursor from a previous page', {
      fields: [{ field: 'cursor', message: 'must be a nextCursor from a previous page' }],
    });
  }
  return id;
}

@Injectable()
export class AccountsService {
  private readonly logger = new Logger(AccountsService.name);

  constructor(
    private readonly accounts: AccountsRepository,
    private readonly events: EventBus,
    private readonly hasher: PasswordHasher,
  ) {}

  /** Trusted internal callers (seed, operators' tooling): no email, may create verified or admin accounts. */
  async createAccount(
    req: Required<Pick<AccountCreateRequest, 'email' | 'password'>> & AccountCreateRequest,
  ): Promise<AccountView> {
    const created = await this.accounts.insert({
      email: normaliseEmail(req.email),
      passwordHash: await this.hasher.hash(req.password),
      username: req.username ?? null,
      role: req.role ?? 'user',
      emailVerifiedAt: req.emailVerified ? new Date() : null,
    });
    if (!created)
      throw new DomainError(ErrorCodes.CONFLICT, 'an account with this email already exists', {
        reason: 'email_taken',
      });
    return toAccountView(created);
  }

  async findByEmail(email: string): Promise<AccountView | null> {
    const found = await this.accounts.findByEmail(normaliseEmail(email));
    return found ? toAccountView(found) : null;
  }

  async getStatus(accountId: string): Promise<AccountStatus> {
    const a = await this.accounts.findById(accountId);
    if (!a)
      return {
        accountId,
        exists: false,
        active: false,
        emailVerified: false,
        suspended: false,
        role: 'user',
        sessionEpoch: 0,
      };
    const emailVerified = a.emailVerifiedAt !== null;
    const suspended = a.suspendedAt !== null;
    return {
      accountId,
      exists: true,
      active: emailVerified && !suspended,
      emailVerified,
      suspended,
      role: a.role,
      sessionEpoch: a.sessionEpoch,
    };
  }

  async getProfile(accountId: string): Promise<AccountProfile> {
    const a = await this.accounts.findById(accountId);
    if (!a) throw accountNotFound();
    return toAccountProfile(a);
  }

  /** The username only: the email is the account's identity and changes only through the operator. */
  async updateProfile(accountId: string, username: string | null): Promise<AccountProfile> {
    await this.accounts.updateUsername(accountId, username);
    return this.getProfile(accountId);
  }

  async listAccounts(query: AccountListQuery): Promise<AccountPage> {
    const limit = query.limit ?? 50;
    const rows = await this.accounts.list({
      emailContains: query.email ? normaliseEmail(query.email) : undefined,
      afterId: query.cursor ? decodeCursor(query.cursor) : undefined,
      limit: limit + 1,
    });
    const page = rows.slice(0, limit);
    return {
      data: page.map(toAccountView),
      nextCursor: rows.length > limit ? encodeCursor(page[page.length - 1].id) : null,
    };
  }

  async getAccount(accountId: string): Promise<AccountView> {
    const a = await this.accounts.findById(accountId);
    if (!a) throw accountNotFound();
    return toAccountView(a);
  }

  /** Role and suspension, by an operator. Every router replica hears of it before this returns. */
  async updateAccount(req: AccountUpdateRequest): Promise<AccountView> {
    const before = await this.accounts.findById(req.accountId);
    if (!before) throw accountNotFound();
    const after = await this.accounts.updateRoleAndSuspension(req.accountId, {
      role: req.role,
      suspended: req.suspended,
    });
    if (!after) throw accountNotFound();
    if (before.role !== after.role || (before.suspendedAt === null) !== (after.suspendedAt === null)) {
      await this.announceChange(req.accountId);
    }
    return toAccountView(after);
  }

  /**
   * Tells every router replica to drop what it cached about this account (verification, suspension, role,
   * session epoch). Flushed before returning, so the event is on the server before the caller's reply.
   */
  async announceChange(accountId: string): Promise<void> {
    try {
      this.events.publish(Subjects.authAccountChanged, { accountId });
      await this.events.connection.flush();
    } catch (e) {
      // The change is committed; routers' 60 s cache TTL bounds how long they may act on the old state.
      this.logger.error(`could not announce a change of account ${accountId}: ${(e as Error).message}`);
    }
  }
}
