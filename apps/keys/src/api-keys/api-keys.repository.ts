import { Injectable } from '@nestjs/common';
import { DataSource, IsNull, type Repository } from 'typeorm';
import { ApiKeyEntity } from './api-key.entity';

/** The only place that queries `keys.api_keys`. */
@Injectable()
export class ApiKeysRepository {
  private readonly repo: Repository<ApiKeyEntity>;

  constructor(dataSource: DataSource) {
    this.repo = dataSource.getRepository(ApiKeyEntity);
  }

  async insert(
    fields: Pick<ApiKeyEntity, 'accountId' | 'name' | 'keyHash' | 'maskedKey' | 'expiresAt'>,
  ): Promise<ApiKeyEntity> {
    const saved = await this.repo.save(this.repo.create({ ...fields, status: 'active', deletedAt: null }));
    return saved;
  }

  /** A live (not deleted) key by its hash. */
  findLiveByHash(keyHash: string): Promise<ApiKeyEntity | null> {
    return this.repo.findOneBy({ keyHash, deletedAt: IsNull() });
  }
}
