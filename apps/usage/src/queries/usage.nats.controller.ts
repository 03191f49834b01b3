import { MessagePattern, Payload } from '@nestjs/microservices';
import {
  Subjects,
  UsageChannelStatsRequest,
  UsageDashboardRequest,
  UsageExportStartRequest,
  UsageLogsListRequest,
  UsageSummaryRequest,
  type OperatorUsageLogView,
  type UsageChannelStatsView,
  type UsageDashboard,
  type UsageExportStarted,
  type UsageLogsPage,
  type UsageLogView,
  type UsageSummary,
} from '@torouter/contracts';
import { ZodPayloadPipe } from '@torouter/messaging';
import { NatsController } from '@torouter/service-runtime';
import type { z } from 'zod';
import { UsageExportService } from '../export/usage-export.service';
import { UsageQueryService } from './usage-query.service';

@NatsController()
export class UsageNatsController {
  constructor(
    private readonly queries: UsageQueryService,
    private readonly exports: UsageExportService,
  ) {}

  @MessagePattern(Subjects.usageLogsList)
  listUsageLogs(
    @Payload(new ZodPayloadPipe(UsageLogsListRequest)) req: z.output<typeof UsageLogsListRequest>,
  ): Promise<UsageLogsPage<UsageLogView | OperatorUsageLogView>> {
    return this.queries.listLogs(req);
  }

  @MessagePattern(Subjects.usageSummaryGet)
  getUsageSummary(
    @Payload(new ZodPayloadPipe(UsageSummaryRequest)) req: z.output<typeof UsageSummaryRequest>,
  ): Promise<UsageSummary> {
    return this.queries.summarize(req);
  }

  @MessagePattern(Subjects.usageDashboardGet)
  getUsageDashboard(
    @Payload(new ZodPayloadPipe(UsageDashboardRequest)) req: z.output<typeof UsageDashboardRequest>,
  ): Promise<UsageDashboard> {
    return this.queries.dashboard(req);
  }

  @MessagePattern(Subjects.usageExportStart)
  startUsageExport(
    @Payload(new ZodPayloadPipe(UsageExportStartRequest)) req: z.output<typeof UsageExportStartRequest>,
  ): UsageExportStarted {
    return this.exports.start(req);
  }

  @MessagePattern(Subjects.usageChannelStatsGet)
  getUsageChannelStats(
    @Payload(new ZodPayloadPipe(UsageChannelStatsRequest)) req: UsageChannelStatsRequest,
  ): Promise<UsageChannelStatsView> {
    return this.queries.channelStats(req);
  }
}
