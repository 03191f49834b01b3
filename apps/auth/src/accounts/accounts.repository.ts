import { Injectable } from '@nestjs/common';
import { DataSource, type Repository } from 'typeorm';
import { AccountEntity } from './account.entity';

/** The only place that queries `auth.accounts`. */
@Injectable()
export class AccountsRepository {
  private readonly repo: Repository<AccountEntity>;

  constructor(dataSource: DataSource) {
    this.repo = dataSource.getRepository(AccountEntity);
  }

  findById(id: string): Promise<AccountEntity | null> {
    return this.repo.findOneBy({ id });
  }

  findByEmail(email: string): Promise<AccountEntity | null> {
    return this.repo.findOneBy({ email });
  }

  /** Inserts, or returns null when the email is taken (unique violation), without a racy pre-check. */
  async insert(
    fields: Pick<AccountEntity, 'email' | 'passwordHash' | 'username' | 'role' | 'emailVerifiedAt'>,
  ): Promise<AccountEntity | null> {
    try {
      const saved = await this.repo.save(this.repo.create(fields));
      return (await this.findById(saved.id))!;
    } catch (e) {
      if ((e as { code?: string }).code === '23505') return null;
      throw e;
    }
  }
}
