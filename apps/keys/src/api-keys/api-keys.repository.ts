import { Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { DataSource, IsNull, type Repository } from 'typeorm';
import { ApiKeyEntity } from './api-key.entity';
import type { KeySettings } from './key-settings';

/** A row loaded WITH its hash, for change events (the hash is `select: false` everywhere else). */
export type ApiKeyWithHash = ApiKeyEntity;

export interface NewApiKey extends KeySettings {
  accountId: string;
  name: string;
  keyHash: string;
  maskedKey: string;
  /** Defaults to the new row's own id. */
  limitsId?: string;
  rotatedFromId?: string | null;
  spentMicroUsd?: number;
}

const liveWhere = `k.deleted_at IS NULL AND (k.delete_at IS NULL OR k.delete_at > now())`;

function settingsColumns(s: KeySettings): Partial<ApiKeyEntity> {
  return {
    planId: s.planId,
    quotaMicroUsd: s.quotaMicroUsd,
    expiresAt: s.expiresAt,
    per5h: s.rateLimits.per5h,
    per1d: s.rateLimits.per1d,
    per7d: s.rateLimits.per7d,
    rpm: s.rateLimits.rpm,
    tpm: s.rateLimits.tpm,
    ipWhitelist: s.ipWhitelist,
    ipBlacklist: s.ipBlacklist,
    modelWhitelist: s.modelWhitelist,
  };
}

/** The only place that queries `keys.api_keys` and `keys.api_key_spend_entries`. */
@Injectable()
export class ApiKeysRepository {
  private readonly repo: Repository<ApiKeyEntity>;

  constructor(private readonly dataSource: DataSource) {
    this.repo = dataSource.getRepository(ApiKeyEntity);
  }

  insert(fields: NewApiKey): Promise<ApiKeyEntity> {
    return ApiKeysRepository.insertWith(this.repo, fields);
  }

  private static async insertWith(repo: Repository<ApiKeyEntity>, fields: NewApiKey): Promise<ApiKeyEntity> {
    const id = randomUUID();
    const row = repo.create({
      id,
      accountId: fields.accountId,
      name: fields.name,
      keyHash: fields.keyHash,
      maskedKey: fields.maskedKey,
      status: 'active',
      ...settingsColumns(fields),
      limitsId: fields.limitsId ?? id,
      rotatedFromId: fields.rotatedFromId ?? null,
      spentMicroUsd: fields.spentMicroUsd ?? 0,
      deleteAt: null,
      deletedAt: null,
    });
    await repo.insert(row);
    return repo.findOneByOrFail({ id });
  }

  /** A live key by its hash: not deleted, and not past a rotation's grace period. */
  findLiveByHash(keyHash: string): Promise<ApiKeyEntity | null> {
    return this.repo
      .createQueryBuilder('k')
      .where('k.key_hash = :keyHash', { keyHash })
      .andWhere(liveWhere)
      .getOne();
  }

  /** One live key of one account (another account's id is simply not found), with its hash. */
  findForAccount(accountId: string, id: string): Promise<ApiKeyWithHash | null> {
    return this.repo
      .createQueryBuilder('k')
      .addSelect('k.keyHash')
      .where('k.id = :id AND k.account_id = :accountId', { id, accountId })
      .andWhere(liveWhere)
      .getOne();
  }

  listForAccount(accountId: string): Promise<ApiKeyEntity[]> {
    return this.repo
      .createQueryBuilder('k')
      .where('k.account_id = :accountId', { accountId })
      .andWhere(liveWhere)
      .orderBy('k.created_at', 'DESC')
      .addOrderBy('k.id', 'ASC')
      .getMany();
  }

  countLiveForAccount(accountId: string): Promise<number> {
    return this.repo
      .createQueryBuilder('k')
      .where('k.account_id = :accountId', { accountId })
      .andWhere(liveWhere)
      .getCount();
  }

  async update(
    id: string,
    fields: Partial<Pick<ApiKeyEntity, 'name' | 'status' | 'deleteAt'>> & { settings?: KeySettings },
  ): Promise<ApiKeyEntity> {
    const { settings, ...rest } = fields;
    await this.repo.update({ id }, { ...rest, ...(settings ? settingsColumns(settings) : {}) });
    return this.repo.findOneByOrFail({ id });
  }

  /**
   * Rotation in one transaction: the new key is inserted, and the old one is deleted now (`deleteAt`
   * null) or scheduled to stop working at `deleteAt`.
   */
  async rotate(
    oldId: string,
    fresh: NewApiKey,
    deleteAt: Date | null,
  ): Promise<{ created: ApiKeyEntity; previous: ApiKeyEntity }> {
    return this.dataSource.transaction(async (m) => {
      const repo = m.getRepository(ApiKeyEntity);
      const created = await ApiKeysRepository.insertWith(repo, fresh);
      await repo.update(
        { id: oldId },
        deleteAt === null ? { deletedAt: () => 'now()', deleteAt: () => 'now()' } : { deleteAt },
      );
      return { created, previous: await repo.findOneByOrFail({ id: oldId }) };
    });
  }

  /** Marks a key deleted now; false when it was already deleted. */
  async softDelete(id: string): Promise<boolean> {
    const res = await this.repo.update({ id, deletedAt: IsNull() }, { deletedAt: () => 'now()' });
    return (res.affected ?? 0) > 0;
  }

  /** Rotated keys whose grace period is over: marked deleted, returned for change events. */
  async finaliseDueDeletions(limit = 500): Promise<Array<{ id: string; keyHash: string }>> {
    const rows = await this.repo.query<[Array<{ id: string; key_hash: string }>, number]>(
      `UPDATE "keys"."api_keys" SET "deleted_at" = "delete_at", "updated_at" = now()
        WHERE "id" IN (SELECT "id" FROM "keys"."api_keys"
                        WHERE "deleted_at" IS NULL AND "delete_at" IS NOT NULL AND "delete_at" <= now()
                        ORDER BY "delete_at" LIMIT $1 FOR UPDATE SKIP LOCKED)
        RETURNING "id", "key_hash"`,
      [limit],
    );
    return rows[0].map((r) => ({ id: r.id, keyHash: r.key_hash }));
  }

  /**
   * Adds a settled request's cost once: the spend entry's primary key (request id) makes a redelivery a
   * no-op. Returns null when the key does not exist.
   */
  async addSpend(
    keyId: string,
    requestId: string,
    amountMicroUsd: number,
  ): Promise<{ applied: boolean; spentMicroUsd: number } | null> {
    return this.dataSource.transaction(async (m) => {
      // INSERT … RETURNING answers rows; UPDATE … RETURNING answers [rows, count] (TypeORM's postgres driver).
      const inserted = await m.query<unknown[]>(
        `INSERT INTO "keys"."api_key_spend_entries" ("request_id", "key_id", "amount_micro_usd")
         SELECT $1, "id", $3 FROM "keys"."api_keys" WHERE "id" = $2
         ON CONFLICT ("request_id") DO NOTHING
         RETURNING "request_id"`,
        [requestId, keyId, amountMicroUsd],
      );
      if (inserted.length > 0) {
        const [rows] = await m.query<[Array<{ spent_micro_usd: string }>, number]>(
          `UPDATE "keys"."api_keys" SET "spent_micro_usd" = "spent_micro_usd" + $2 WHERE "id" = $1
           RETURNING "spent_micro_usd"`,
          [keyId, amountMicroUsd],
        );
        return { applied: true, spentMicroUsd: Number(rows[0].spent_micro_usd) };
      }
      const rows = await m.query<Array<{ spent_micro_usd: string }>>(
        `SELECT "spent_micro_usd" FROM "keys"."api_keys" WHERE "id" = $1`,
        [keyId],
      );
      return rows[0] ? { applied: false, spentMicroUsd: Number(rows[0].spent_micro_usd) } : null;
    });
  }

  /** Spend entries are only needed to drop redeliveries; a week is far beyond any redelivery. */
  async pruneSpendEntries(olderThanDays = 7): Promise<number> {
    const res = await this.repo.query<[unknown[], number]>(
      `DELETE FROM "keys"."api_key_spend_entries" WHERE "created_at" < now() - make_interval(days => $1)`,
      [olderThanDays],
    );
    return res[1] ?? 0;
  }

  /** Batched last-use records; an older record never overwrites a newer one. */
  async recordLastUsed(entries: Array<{ keyId: string; at: string; ip: string }>): Promise<number> {
    if (entries.length === 0) return 0;
    const res = await this.repo.query<[unknown[], number]>(
      `UPDATE "keys"."api_keys" k SET "last_used_at" = v.at, "last_used_ip" = v.ip
         FROM (SELECT * FROM unnest($1::uuid[], $2::timestamptz[], $3::text[]) AS t(id, at, ip)) v
        WHERE k."id" = v.id AND (k."last_used_at" IS NULL OR k."last_used_at" < v.at)`,
      [entries.map((e) => e.keyId), entries.map((e) => e.at), entries.map((e) => e.ip)],
    );
    return res[1] ?? 0;
  }
}
