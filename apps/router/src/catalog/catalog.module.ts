import { Module } from '@nestjs/common';
import { CatalogCache } from './catalog.cache';
import { CatalogHttpController } from './catalog.http.controller';
import { CatalogRepository } from './catalog.repository';
import { ModelsHttpController } from './models.http.controller';
import { ModelsService } from './models.service';

/** Models, prices and channels: stored in the router's schema, served from memory. */
@Module({
  controllers: [CatalogHttpController, ModelsHttpController],
  providers: [CatalogCache, CatalogRepository, ModelsService],
  exports: [CatalogCache, CatalogRepository],
})
export class CatalogModule {}
