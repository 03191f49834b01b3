import { Injectable } from '@nestjs/common';
import { DataSource, type Repository } from 'typeorm';
import { ChannelEntity } from './channel.entity';
import { ModelEntity } from './model.entity';

/** The only place that queries `router.channels` and `router.models`. */
@Injectable()
export class CatalogRepository {
  private readonly channels: Repository<ChannelEntity>;
  private readonly models: Repository<ModelEntity>;

  constructor(dataSource: DataSource) {
    this.channels = dataSource.getRepository(ChannelEntity);
    this.models = dataSource.getRepository(ModelEntity);
  }

  listChannels(): Promise<ChannelEntity[]> {
    return this.channels.find({ order: { priority: 'ASC', name: 'ASC' } });
  }

  listModels(): Promise<ModelEntity[]> {
    return this.models.find({ order: { id: 'ASC' } });
  }

  async upsertModels(models: Array<Partial<ModelEntity> & Pick<ModelEntity, 'id'>>): Promise<void> {
    await this.models.upsert(models, ['id']);
  }

  async channelExists(name: string): Promise<boolean> {
    return (await this.channels.countBy({ name })) > 0;
  }

  async insertChannel(fields: Partial<ChannelEntity>): Promise<ChannelEntity> {
    return this.channels.save(this.channels.create(fields));
  }
}
