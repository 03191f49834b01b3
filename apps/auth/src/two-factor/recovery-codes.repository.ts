import { Injectable } from '@nestjs/common';
import { DataSource, type EntityManager, type Repository } from 'typeorm';
import { RecoveryCodeEntity } from './recovery-code.entity';

/** The only place that queries `auth.recovery_codes`. */
@Injectable()
export class RecoveryCodesRepository {
  private readonly repo: Repository<RecoveryCodeEntity>;

  constructor(dataSource: DataSource) {
    this.repo = dataSource.getRepository(RecoveryCodeEntity);
  }

  /** The account's codes become exactly these (hashes). */
  async replaceAll(accountId: string, codeHashes: string[], m: EntityManager): Promise<void> {
    const r = m.getRepository(RecoveryCodeEntity);
    await r.delete({ accountId });
    await r.insert(codeHashes.map((codeHash) => ({ accountId, codeHash })));
  }

  async deleteAll(accountId: string, m: EntityManager): Promise<void> {
    await m.getRepository(RecoveryCodeEntity).delete({ accountId });
  }

  /** Uses the unused code with this hash, atomically; false when there is none. */
  async consume(accountId: string, codeHash: string): Promise<boolean> {
    const res = await this.repo
      .createQueryBuilder()
      .update()
      .set({ usedAt: () => 'now()' })
      .where('account_id = :accountId AND code_hash = :codeHash AND used_at IS NULL', { accountId, codeHash })
      .execute();
    return (res.affected ?? 0) > 0;
  }
}
