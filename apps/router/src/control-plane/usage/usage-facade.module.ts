import { Module } from '@nestjs/common';
import { UsageAdminHttpController } from './usage-admin.http.controller';
import { UsageBalanceReader } from './usage-balance';
import { UsageExportStreamer } from './usage-export.streamer';
import { UsageHttpController } from './usage.http.controller';

/** Control-plane facade of the usage service: validates queries, scopes them, forwards over NATS. */
@Module({
  controllers: [UsageAdminHttpController, UsageHttpController],
  providers: [UsageBalanceReader, UsageExportStreamer],
})
export class UsageFacadeModule {}
