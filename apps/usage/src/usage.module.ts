import { Module } from '@nestjs/common';
import { UsageExportService } from './export/usage-export.service';
import { UsageMetrics } from './metrics/usage-metrics';
import { PartitionMaintenanceService } from './partitions/partition-maintenance.service';
import { PartitionsRepository } from './partitions/partitions.repository';
import { UsageQueryRepository } from './queries/usage-query.repository';
import { UsageQueryService } from './queries/usage-query.service';
import { UsageNatsController } from './queries/usage.nats.controller';
import { RequestLogRepository } from './request-log/request-log.repository';
import { UsageEventConsumer } from './request-log/usage-event.consumer';

/**
 * The usage service: consumes usage events into the request log and rollups, keeps the log partitioned,
 * and answers log, summary, dashboard, channel and CSV-export requests over NATS.
 */
@Module({
  controllers: [UsageNatsController],
  providers: [
    PartitionMaintenanceService,
    PartitionsRepository,
    RequestLogRepository,
    UsageEventConsumer,
    UsageExportService,
    UsageMetrics,
    UsageQueryRepository,
    UsageQueryService,
  ],
})
export class UsageModule {}
