import { Module } from '@nestjs/common';
import { CatalogCache } from './catalog.cache';
import { CatalogHttpController } from './catalog.http.controller';
import { CatalogRepository } from './catalog.repository';

/** Models, prices and channels: stored in the router's schema, served from memory. */
@Module({
  controllers: [CatalogHttpController],
  providers: [CatalogCache, CatalogRepository],
  exports: [CatalogCache, CatalogRepository],
})
export class CatalogModule {}
