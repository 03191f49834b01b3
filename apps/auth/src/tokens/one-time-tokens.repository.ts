import { Injectable } from '@nestjs/common';
import { DataSource, type EntityManager, type Repository } from 'typeorm';
import { OneTimeTokenEntity, type OneTimeTokenPurpose } from './one-time-token.entity';

/** The only place that queries `auth.one_time_tokens`. */
@Injectable()
export class OneTimeTokensRepository {
  private readonly repo: Repository<OneTimeTokenEntity>;

  constructor(dataSource: DataSource) {
    this.repo = dataSource.getRepository(OneTimeTokenEntity);
  }

  private r(m?: EntityManager): Repository<OneTimeTokenEntity> {
    return m ? m.getRepository(OneTimeTokenEntity) : this.repo;
  }

  async insert(fields: {
    accountId: string;
    purpose: OneTimeTokenPurpose;
    tokenHash: string;
    expiresAt: Date;
  }): Promise<void> {
    await this.repo.insert(fields);
  }

  /**
   * Marks the live token with this hash used and returns its account, atomically: of two concurrent
   * uses only one gets the account. Null when unknown, used, expired or of another purpose.
   */
  async consume(purpose: OneTimeTokenPurpose, tokenHash: string, m?: EntityManager): Promise<string | null> {
    // On Postgres, TypeORM answers an UPDATE … RETURNING with [rows, affectedCount].
    const [rows] = await this.r(m).query<[Array<{ account_id: string }>, number]>(
      `UPDATE "auth"."one_time_tokens" SET "used_at" = now()
        WHERE "token_hash" = $1 AND "purpose" = $2 AND "used_at" IS NULL AND "expires_at" > now()
        RETURNING "account_id"`,
      [tokenHash, purpose],
    );
    return rows[0]?.account_id ?? null;
  }

  /** The newest live token of this purpose for the account (email codes: only the latest one counts). */
  findNewestLive(accountId: string, purpose: OneTimeTokenPurpose): Promise<OneTimeTokenEntity | null> {
    return this.repo
      .createQueryBuilder('t')
      .where('t.account_id = :accountId AND t.purpose = :purpose', { accountId, purpose })
      .andWhere('t.used_at IS NULL AND t.expires_at > now()')
      .orderBy('t.created_at', 'DESC')
      .getOne();
  }

  /** Uses this token if it is still live; false when someone else used it first. */
  async consumeById(id: string): Promise<boolean> {
    const res = await this.repo
      .createQueryBuilder()
      .update()
      .set({ usedAt: () => 'now()' })
      .where('id = :id AND used_at IS NULL AND expires_at > now()', { id })
      .execute();
    return (res.affected ?? 0) > 0;
  }

  /** Counts a wrong guess; burns the token when `maxAttempts` is reached. */
  async recordFailedAttempt(id: string, maxAttempts: number): Promise<void> {
    await this.repo
      .createQueryBuilder()
      .update()
      .set({
        failedAttempts: () => 'failed_attempts + 1',
        usedAt: () =>
          `CASE WHEN failed_attempts + 1 >= ${Math.trunc(maxAttempts)} THEN now() ELSE used_at END`,
      })
      .where('id = :id', { id })
      .execute();
  }

  /** Invalidates every outstanding token of this purpose for the account (after one was used). */
  async revokeAll(accountId: string, purpose: OneTimeTokenPurpose, m?: EntityManager): Promise<void> {
    await this.r(m)
      .createQueryBuilder()
      .update()
      .set({ usedAt: () => 'now()' })
      .where('account_id = :accountId AND purpose = :purpose AND used_at IS NULL', { accountId, purpose })
      .execute();
  }

  /** Drops tokens that expired or were used more than a day ago (housekeeping). */
  async deleteStale(): Promise<number> {
    const res = await this.repo
      .createQueryBuilder()
      .delete()
      .where(`expires_at < now() - interval '1 day' OR used_at < now() - interval '1 day'`)
      .execute();
    return res.affected ?? 0;
  }
}
