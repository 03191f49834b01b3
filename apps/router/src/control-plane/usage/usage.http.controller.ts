import { Controller, Get, Query, Res, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiProduces, ApiQuery, ApiTags } from '@nestjs/swagger';
import {
  Subjects,
  type UsageDashboard,
  type UsageLogsPage,
  type UsageLogView,
  type UsageSummary,
} from '@torouter/contracts';
import { RpcClient, ZodPayloadPipe } from '@torouter/messaging';
import type { FastifyReply } from 'fastify';
import type { z } from 'zod';
import { AccountSessionGuard, CurrentAccountId } from '../guards/account-session.guard';
import { UsageBalanceReader } from './usage-balance';
import { UsageExportStreamer } from './usage-export.streamer';
import {
  closedWindow,
  exportFileName,
  openWindow,
  UsageDashboardQuery,
  UsageExportQuery,
  UsageLogsQuery,
  UsageSummaryQuery,
} from './usage-query.params';
import {
  E400,
  E401,
  E503,
  Q,
  usageDashboardSchema,
  UsageErrors,
  usageLogsPageSchema,
  usageSummarySchema,
} from './usage.api-schemas';

/** The signed-in account's own usage: request log, summaries, dashboard, CSV export. Never another account's. */
@ApiTags('Usage')
@ApiBearerAuth()
@Controller('api/v1/usage')
@UseGuards(AccountSessionGuard)
export class UsageHttpController {
  constructor(
    private readonly rpc: RpcClient,
    private readonly exports: UsageExportStreamer,
    private readonly balances: UsageBalanceReader,
  ) {}

  @Get('logs')
  @ApiOperation({
    operationId: 'listUsageLogs',
    summary: 'Your request log, newest first (cursor pagination); prompts and completions are never stored',
  })
  @Q.keyId
  @Q.model
  @Q.status
  @Q.from
  @Q.to
  @Q.limit
  @Q.cursor
  @ApiOkResponse({ schema: usageLogsPageSchema })
  @UsageErrors({ 400: E400, 401: E401, 503: E503 })
  listUsageLogs(
    @CurrentAccountId() accountId: string,
    @Query(new ZodPayloadPipe(UsageLogsQuery)) q: z.output<typeof UsageLogsQuery>,
  ): Promise<UsageLogsPage<UsageLogView>> {
    return this.rpc.send(Subjects.usageLogsList, {
      scope: { kind: 'account', accountId },
      filters: { ...openWindow(q), keyId: q.keyId, model: q.model, status: q.status },
      limit: q.limit,
      cursor: q.cursor,
    });
  }

  @Get('summary')
  @ApiOperation({
    operationId: 'getUsageSummary',
    summary:
      'Totals and groups by day, hour, model or key for a window (default: the last 30 days); `requests` counts successful ones',
  })
  @ApiQuery({
    name: 'groupBy',
    required: false,
    enum: ['day', 'hour', 'model', 'key'],
    description: 'Default day',
  })
  @Q.from
  @Q.to
  @Q.model
  @Q.keyId
  @ApiOkResponse({ schema: usageSummarySchema })
  @UsageErrors({ 400: E400, 401: E401, 503: E503 })
  getUsageSummary(
    @CurrentAccountId() accountId: string,
    @Query(new ZodPayloadPipe(UsageSummaryQuery)) q: z.output<typeof UsageSummaryQuery>,
  ): Promise<UsageSummary> {
    return this.rpc.send(Subjects.usageSummaryGet, {
      scope: { kind: 'account', accountId },
      filters: { ...closedWindow(q), keyId: q.keyId, model: q.model },
      groupBy: q.groupBy,
    });
  }

  @Get('dashboard')
  @ApiOperation({
    operationId: 'getUsageDashboard',
    summary: 'Balance, spend and requests per day, top models by spend and recent activity (7 or 30 days)',
  })
  @Q.range
  @ApiOkResponse({ schema: usageDashboardSchema })
  @UsageErrors({ 400: E400, 401: E401, 503: E503 })
  async getUsageDashboard(
    @CurrentAccountId() accountId: string,
    @Query(new ZodPayloadPipe(UsageDashboardQuery)) q: z.output<typeof UsageDashboardQuery>,
  ): Promise<UsageDashboard & { balanceUsd: number | null }> {
    const [dashboard, balanceUsd] = await Promise.all([
      this.rpc.send(Subjects.usageDashboardGet, { scope: { kind: 'account', accountId }, range: q.range }),
      this.balances.balanceUsd(accountId),
    ]);
    return { balanceUsd, ...dashboard };
  }

  @Get('export.csv')
  @ApiOperation({
    operationId: 'exportUsageCsv',
    summary:
      'Per-request rows as CSV (`usage-<start>_<end>.csv`), streamed: any size, default the last 30 days',
  })
  @Q.from
  @Q.to
  @Q.model
  @Q.keyId
  @Q.status
  @ApiProduces('text/csv')
  @ApiOkResponse({ description: 'CSV with a header row', schema: { type: 'string' } })
  @UsageErrors({
    400: E400,
    401: E401,
    429: '`rate_limited`: too many exports running; retry shortly',
    503: E503,
  })
  async exportUsageCsv(
    @CurrentAccountId() accountId: string,
    @Query(new ZodPayloadPipe(UsageExportQuery)) q: z.output<typeof UsageExportQuery>,
    @Res() reply: FastifyReply,
  ): Promise<void> {
    const window = closedWindow(q);
    const stream = await this.exports.open({
      scope: { kind: 'account', accountId },
      filters: { ...window, keyId: q.keyId, model: q.model, status: q.status },
    });
    void reply
      .header('Content-Type', 'text/csv; charset=utf-8')
      .header('Content-Disposition', `attachment; filename="${exportFileName(window)}"`)
      .header('Cache-Control', 'no-store')
      .send(stream);
  }
}
