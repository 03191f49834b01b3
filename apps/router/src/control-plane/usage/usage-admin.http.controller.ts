import { Controller, Get, Query, Res, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiProduces, ApiQuery, ApiTags } from '@nestjs/swagger';
import {
  Subjects,
  type OperatorUsageLogView,
  type UsageChannelStatsView,
  type UsageDashboard,
  type UsageLogsPage,
  type UsageLogView,
  type UsageSummary,
} from '@torouter/contracts';
import { RpcClient, ZodPayloadPipe } from '@torouter/messaging';
import type { FastifyReply } from 'fastify';
import type { z } from 'zod';
import { AdminGuard } from '../guards/account-session.guard';
import { UsageBalanceReader } from './usage-balance';
import { UsageExportStreamer } from './usage-export.streamer';
import {
  AdminUsageDashboardQuery,
  AdminUsageExportQuery,
  AdminUsageLogsQuery,
  AdminUsageSummaryQuery,
  ChannelStatsQuery,
  closedWindow,
  exportFileName,
  openWindow,
} from './usage-query.params';
import {
  adminUsageLogsPageSchema,
  channelStatsSchema,
  E400,
  E401_ADMIN,
  E403_ADMIN,
  E503,
  Q,
  usageDashboardSchema,
  UsageErrors,
  usageSummarySchema,
} from './usage.api-schemas';

const operator = (accountId?: string) => ({ kind: 'operator' as const, accountId: accountId ?? null });

/** Operators: the same usage queries across accounts (or narrowed to one), plus per-channel economics. */
@ApiTags('Admin')
@ApiBearerAuth()
@Controller('api/v1/admin/usage')
@UseGuards(AdminGuard)
export class UsageAdminHttpController {
  constructor(
    private readonly rpc: RpcClient,
    private readonly exports: UsageExportStreamer,
    private readonly balances: UsageBalanceReader,
  ) {}

  @Get('logs')
  @ApiOperation({
    operationId: 'listAdminUsageLogs',
    summary: 'Every account’s request log, newest first, with routing attempts and list-price cost',
  })
  @Q.accountId
  @Q.keyId
  @Q.model
  @Q.status
  @Q.channel
  @Q.from
  @Q.to
  @Q.limit
  @Q.cursor
  @ApiOkResponse({ schema: adminUsageLogsPageSchema })
  @UsageErrors({ 400: E400, 401: E401_ADMIN, 403: E403_ADMIN, 503: E503 })
  listAdminUsageLogs(
    @Query(new ZodPayloadPipe(AdminUsageLogsQuery)) q: z.output<typeof AdminUsageLogsQuery>,
  ): Promise<UsageLogsPage<UsageLogView | OperatorUsageLogView>> {
    return this.rpc.send(Subjects.usageLogsList, {
      scope: operator(q.accountId),
      filters: { ...openWindow(q), keyId: q.keyId, model: q.model, status: q.status, channel: q.channel },
      limit: q.limit,
      cursor: q.cursor,
    });
  }

  @Get('summary')
  @ApiOperation({
    operationId: 'getAdminUsageSummary',
    summary: 'Totals and groups (day, hour, model, key or account) across accounts or for one account',
  })
  @ApiQuery({
    name: 'groupBy',
    required: false,
    enum: ['day', 'hour', 'model', 'key', 'account'],
    description: 'Default day',
  })
  @Q.accountId
  @Q.from
  @Q.to
  @Q.model
  @Q.keyId
  @ApiOkResponse({ schema: usageSummarySchema })
  @UsageErrors({ 400: E400, 401: E401_ADMIN, 403: E403_ADMIN, 503: E503 })
  getAdminUsageSummary(
    @Query(new ZodPayloadPipe(AdminUsageSummaryQuery)) q: z.output<typeof AdminUsageSummaryQuery>,
  ): Promise<UsageSummary> {
    return this.rpc.send(Subjects.usageSummaryGet, {
      scope: operator(q.accountId),
      filters: { ...closedWindow(q), keyId: q.keyId, model: q.model },
      groupBy: q.groupBy,
    });
  }

  @Get('dashboard')
  @ApiOperation({
    operationId: 'getAdminUsageDashboard',
    summary: 'The dashboard across all accounts, or for one account (with its balance)',
  })
  @Q.range
  @Q.accountId
  @ApiOkResponse({ schema: usageDashboardSchema })
  @UsageErrors({ 400: E400, 401: E401_ADMIN, 403: E403_ADMIN, 503: E503 })
  async getAdminUsageDashboard(
    @Query(new ZodPayloadPipe(AdminUsageDashboardQuery)) q: z.output<typeof AdminUsageDashboardQuery>,
  ): Promise<UsageDashboard & { balanceUsd: number | null }> {
    const [dashboard, balanceUsd] = await Promise.all([
      this.rpc.send(Subjects.usageDashboardGet, { scope: operator(q.accountId), range: q.range }),
      q.accountId ? this.balances.balanceUsd(q.accountId) : Promise.resolve(null),
    ]);
    return { balanceUsd, ...dashboard };
  }

  @Get('channels')
  @ApiOperation({
    operationId: 'getAdminChannelUsage',
    summary:
      'Per channel: attempts and error rate, average latency and TTFT, spend charged vs. upstream list cost (hour resolution)',
  })
  @Q.from
  @Q.to
  @Q.model
  @ApiOkResponse({ schema: channelStatsSchema })
  @UsageErrors({ 400: E400, 401: E401_ADMIN, 403: E403_ADMIN, 503: E503 })
  getAdminChannelUsage(
    @Query(new ZodPayloadPipe(ChannelStatsQuery)) q: z.output<typeof ChannelStatsQuery>,
  ): Promise<UsageChannelStatsView> {
    return this.rpc.send(Subjects.usageChannelStatsGet, { ...closedWindow(q), model: q.model });
  }

  @Get('export.csv')
  @ApiOperation({
    operationId: 'exportAdminUsageCsv',
    summary: 'Per-request rows of every account (or one) as a streamed CSV, with account id and list cost',
  })
  @Q.accountId
  @Q.from
  @Q.to
  @Q.model
  @Q.keyId
  @Q.status
  @Q.channel
  @ApiProduces('text/csv')
  @ApiOkResponse({ description: 'CSV with a header row', schema: { type: 'string' } })
  @UsageErrors({
    400: E400,
    401: E401_ADMIN,
    403: E403_ADMIN,
    429: '`rate_limited`: too many exports running; retry shortly',
    503: E503,
  })
  async exportAdminUsageCsv(
    @Query(new ZodPayloadPipe(AdminUsageExportQuery)) q: z.output<typeof AdminUsageExportQuery>,
    @Res() reply: FastifyReply,
  ): Promise<void> {
    const window = closedWindow(q);
    const stream = await this.exports.open({
      scope: operator(q.accountId),
      filters: { ...window, keyId: q.keyId, model: q.model, status: q.status, channel: q.channel },
    });
    void reply
      .header('Content-Type', 'text/csv; charset=utf-8')
      .header('Content-Disposition', `attachment; filename="${exportFileName(window)}"`)
      .header('Cache-Control', 'no-store')
      .send(stream);
  }
}
