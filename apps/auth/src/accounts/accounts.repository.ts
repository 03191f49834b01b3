import { Injectable } from '@nestjs/common';
import { DataSource, type EntityManager, type Repository } from 'typeorm';
import { AccountEntity } from './account.entity';

/** An account with the columns that are never selected by default. */
export type AccountWithSecrets = AccountEntity & {
  passwordHash: string;
  totpSecretEnc: string | null;
  totpLastStep: number | null;
};

/** The only place that queries `auth.accounts`. */
@Injectable()
export class AccountsRepository {
  private readonly repo: Repository<AccountEntity>;

  constructor(private readonly dataSource: DataSource) {
    this.repo = dataSource.getRepository(AccountEntity);
  }

  private r(m?: EntityManager): Repository<AccountEntity> {
    return m ? m.getRepository(AccountEntity) : this.repo;
  }

  findById(id: string, m?: EntityManager): Promise<AccountEntity | null> {
    return this.r(m).findOneBy({ id });
  }

  findByEmail(email: string): Promise<AccountEntity | null> {
    return this.repo.findOneBy({ email });
  }

  private withSecrets(m?: EntityManager) {
    return this.r(m)
      .createQueryBuilder('a')
      .addSelect(['a.passwordHash', 'a.totpSecretEnc', 'a.totpLastStep']);
  }

  async findByIdWithSecrets(id: string, m?: EntityManager): Promise<AccountWithSecrets | null> {
    return this.withSecrets(m).where('a.id = :id', { id }).getOne();
  }

  async findByEmailWithSecrets(email: string): Promise<AccountWithSecrets | null> {
    return this.withSecrets().where('a.email = :email', { email }).getOne();
  }

  /**
   * Inserts, or returns null when the email is taken — decided by the unique index (no racy pre-check),
   * with ON CONFLICT DO NOTHING so no failing statement (and its parameters) reaches the error log.
   */
  async insert(
    fields: Pick<AccountEntity, 'email' | 'passwordHash' | 'username' | 'role' | 'emailVerifiedAt'>,
  ): Promise<AccountEntity | null> {
    const res = await this.repo
      .createQueryBuilder()
      .insert()
      .into(AccountEntity)
      .values(fields)
      .orIgnore()
      .returning(['id'])
      .execute();
    const id = (res.raw as Array<{ id: string }>)[0]?.id;
    return id ? this.findById(id) : null;
  }

  /** Sets the verification time once; false when it was already verified (or the account is gone). */
  async markEmailVerified(id: string, m?: EntityManager): Promise<boolean> {
    const res = await this.r(m)
      .createQueryBuilder()
      .update()
      .set({ emailVerifiedAt: () => 'now()' })
      .where('id = :id AND email_verified_at IS NULL', { id })
      .execute();
    return (res.affected ?? 0) > 0;
  }

  /** Replaces the password hash; with `revokeSessions` also bumps the session epoch. */
  async updatePassword(
    id: string,
    passwordHash: string,
    opts: { revokeSessions: boolean },
    m?: EntityManager,
  ): Promise<void> {
    await this.r(m)
      .createQueryBuilder()
      .update()
      .set({
        passwordHash,
        ...(opts.revokeSessions ? { sessionEpoch: () => 'session_epoch + 1' } : {}),
      })
      .where('id = :id', { id })
      .execute();
  }

  async updateUsername(id: string, username: string | null): Promise<void> {
    await this.repo.update({ id }, { username });
  }

  /** Stores a new (not yet enabled) TOTP secret; false when two-factor is already on. */
  async setPendingTotpSecret(id: string, totpSecretEnc: string): Promise<boolean> {
    const res = await this.repo
      .createQueryBuilder()
      .update()
      .set({ totpSecretEnc, totpLastStep: null })
      .where('id = :id AND totp_enabled_at IS NULL', { id })
      .execute();
    return (res.affected ?? 0) > 0;
  }

  /** Turns two-factor on for the pending secret; false when it is already on or there is no secret. */
  async enableTotp(id: string, step: number, m: EntityManager): Promise<boolean> {
    const res = await this.r(m)
      .createQueryBuilder()
      .update()
      .set({ totpEnabledAt: () => 'now()', totpLastStep: step })
      .where('id = :id AND totp_enabled_at IS NULL AND totp_secret_enc IS NOT NULL', { id })
      .execute();
    return (res.affected ?? 0) > 0;
  }

  async disableTotp(id: string, m: EntityManager): Promise<void> {
    await this.r(m).update({ id }, { totpEnabledAt: null, totpSecretEnc: null, totpLastStep: null });
  }

  /**
   * Records that the code of `step` was accepted, atomically refusing a step at or before the last one
   * accepted: the same code (or an older one) never works twice, even under concurrent requests.
   */
  async claimTotpStep(id: string, step: number): Promise<boolean> {
    const res = await this.repo
      .createQueryBuilder()
      .update()
      .set({ totpLastStep: step })
      .where('id = :id AND (totp_last_step IS NULL OR totp_last_step < :step)', { id, step })
      .execute();
    return (res.affected ?? 0) > 0;
  }

  /** Admin changes; returns the updated row, or null when the account does not exist. */
  async updateRoleAndSuspension(
    id: string,
    changes: { role?: 'user' | 'admin'; suspended?: boolean },
  ): Promise<AccountEntity | null> {
    const set: Record<string, unknown> = {};
    if (changes.role !== undefined) set.role = changes.role;
    if (changes.suspended === true) set.suspendedAt = () => 'COALESCE(suspended_at, now())';
    if (changes.suspended === false) set.suspendedAt = null;
    if (Object.keys(set).length > 0) {
      await this.repo.createQueryBuilder().update().set(set).where('id = :id', { id }).execute();
    }
    return this.findById(id);
  }

  /**
   * Newest first, keyset-paginated on (created_at, id) after the account `afterId` (compared in Postgres,
   * at full timestamp precision); `emailContains` is a case-insensitive substring.
   */
  list(opts: { emailContains?: string; afterId?: string; limit: number }): Promise<AccountEntity[]> {
    const q = this.repo.createQueryBuilder('a');
    if (opts.emailContains) {
      const pattern = `%${opts.emailContains.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
      q.andWhere(`a.email LIKE :pattern ESCAPE '\\'`, { pattern });
    }
    if (opts.afterId) {
      q.andWhere(
        '(a.created_at, a.id) < (SELECT c.created_at, c.id FROM "auth"."accounts" c WHERE c.id = :afterId)',
        { afterId: opts.afterId },
      );
    }
    return q.orderBy('a.created_at', 'DESC').addOrderBy('a.id', 'DESC').take(opts.limit).getMany();
  }

  transaction<T>(work: (m: EntityManager) => Promise<T>): Promise<T> {
    return this.dataSource.transaction(work);
  }
}
