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

  /** With the encrypted credentials, for the in-memory catalog only (they never leave the router). */
  listChannelsWithCredentials(): Promise<ChannelEntity[]> {
    return this.channels
      .createQueryBuilder('c')
      .addSelect('c.credentialsEncrypted')
      .orderBy('c.priority', 'ASC')
      .addOrderBy('c.name', 'ASC')
      .getMany();
  }

  findChannel(id: string): Promise<ChannelEntity | null> {
    return this.channels.findOneBy({ id });
  }

  findChannelWithCredentials(id: string): Promise<ChannelEntity | null> {
    return this.channels
      .createQueryBuilder('c')
      .addSelect('c.credentialsEncrypted')
      .where('c.id = :id', { id })
      .getOne();
  }

  async channelExists(name: string): Promise<boolean> {
    return (await this.channels.countBy({ name })) > 0;
  }

  async insertChannel(fields: Partial<ChannelEntity>): Promise<ChannelEntity> {
    return this.channels.save(this.channels.create(fields));
  }

  async updateChannel(id: string, fields: Partial<ChannelEntity>): Promise<void> {
    await this.channels.update({ id }, fields);
  }

  async deleteChannel(id: string): Promise<boolean> {
    return ((await this.channels.delete({ id })).affected ?? 0) > 0;
  }

  listModels(): Promise<ModelEntity[]> {
    return this.models.find({ order: { id: 'ASC' } });
  }

  findModel(id: string): Promise<ModelEntity | null> {
    return this.models.findOneBy({ id });
  }

  async upsertModels(models: Array<Partial<ModelEntity> & Pick<ModelEntity, 'id'>>): Promise<void> {
    await this.models.upsert(models, ['id']);
  }

  async insertModel(fields: Partial<ModelEntity>): Promise<ModelEntity> {
    return this.models.save(this.models.create(fields));
  }

  async updateModel(id: string, fields: Partial<ModelEntity>): Promise<void> {
    await this.models.update({ id }, fields);
  }

  async deleteModel(id: string): Promise<boolean> {
    return ((await this.models.delete({ id })).affected ?? 0) > 0;
  }
}
