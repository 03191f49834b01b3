import { Injectable } from '@nestjs/common';
import {
  DomainError,
  ErrorCodes,
  Subjects,
  type AccountCreateRequest,
  type AccountStatus,
  type AccountView,
} from '@torouter/contracts';
import { EventBus } from '@torouter/messaging';
import type { AccountEntity } from './account.entity';
import { AccountsRepository } from './accounts.repository';
import { PasswordHasher } from './password-hasher';

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
    createdAt: a.createdAt.toISOString(),
  };
}

@Injectable()
export class AccountsService {
  constructor(
    private readonly accounts: AccountsRepository,
    private readonly events: EventBus,
    private readonly hasher: PasswordHasher,
  ) {}

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

  /** Tells every router replica to drop what it cached about this account. */
  announceChange(accountId: string): void {
    this.events.publish(Subjects.authAccountChanged, { accountId });
  }
}
