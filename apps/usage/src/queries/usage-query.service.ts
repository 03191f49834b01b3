import { Injectable } from '@nestjs/common';
import {
  DomainError,
  ErrorCodes,
  USAGE_DAILY_MAX_DAYS,
  USAGE_HOURLY_MAX_DAYS,
  USAGE_SUMMARY_MAX_GROUPS,
  type OperatorUsageLogView,
  type UsageChannelStatsRequest,
  type UsageChannelStatsView,
  type UsageDashboard,
  type UsageDashboardRange,
  type UsageGroupBy,
  type UsageLogFilters,
  type UsageLogsPage,
  type UsageLogView,
  type UsageRangeFilters,
  type UsageScope,
  type UsageSummary,
  type UsageTotals,
} from '@torouter/contracts';
import { microToUsd } from '@torouter/money';
import { UsageMetrics } from '../metrics/usage-metrics';
import { decodeLogCursor, encodeLogCursor } from './log-cursor';
import { addDays, ceilHour, floorDay, floorHour, splitWindow, utcDate } from './time-windows';
import {
  toNumber as n,
  UsageQueryRepository,
  type RequestLogRecord,
  type TotalsRecord,
} from './usage-query.repository';

const DAY_MS = 86_400_000;
const DASHBOARD_TOP_MODELS = 5;
const DASHBOARD_RECENT = 5;

function invalid(field: string, message: string): DomainError {
  return new DomainError(ErrorCodes.VALIDATION_FAILED, `${field}: ${message}`, {
    fields: [{ field, message }],
  });
}

/** `to` must be after `from`; both parsed. */
function window(filters: { from: string; to: string }): { from: Date; to: Date } {
  const from = new Date(filters.from);
  const to = new Date(filters.to);
  if (to <= from) throw invalid('to', 'must be after from');
  return { from, to };
}

/** The customer's view of a row: no account, routing or list-price details. */
export function toLogView(r: RequestLogRecord): UsageLogView {
  return {
    requestId: r.request_id,
    createdAt: r.created_at.toISOString(),
    keyId: r.key_id,
    keyName: r.key_name,
    model: r.model,
    requestedModel: r.requested_model,
    channelName: r.channel_name,
    endpoint: r.endpoint,
    status: r.status,
    httpStatus: r.http_status,
    ...(r.error_code ? { errorCode: r.error_code } : {}),
    inputTokens: n(r.input_tokens),
    cacheReadTokens: n(r.cache_read_tokens),
    cacheWrite5mTokens: n(r.cache_write_5m_tokens),
    cacheWrite1hTokens: n(r.cache_write_1h_tokens),
    outputTokens: n(r.output_tokens),
    reasoningTokens: n(r.reasoning_tokens),
    costUsd: microToUsd(n(r.cost_micro_usd)),
    latencyMs: r.latency_ms,
    ttftMs: r.ttft_ms,
    stream: r.stream,
    retries: Math.max(0, r.attempts.length - 1),
    clientIp: r.client_ip,
  };
}

export function toOperatorLogView(r: RequestLogRecord): OperatorUsageLogView {
  return {
    ...toLogView(r),
    accountId: r.account_id,
    channelId: r.channel_id,
    attempts: r.attempts,
    usageSource: r.usage_source,
    listCostUsd: microToUsd(n(r.list_cost_micro_usd)),
    planId: r.plan_id,
  };
}

function toTotals(r: TotalsRecord | undefined): UsageTotals {
  return {
    requests: n(r?.requests),
    failedRequests: n(r?.failed_requests),
    cancelledRequests: n(r?.cancelled_requests),
    inputTokens: n(r?.input_tokens),
    outputTokens: n(r?.output_tokens),
    cacheReadTokens: n(r?.cache_read_tokens),
    cacheWriteTokens: n(r?.cache_write_tokens),
    reasoningTokens: n(r?.reasoning_tokens),
    costUsd: microToUsd(n(r?.cost_micro_usd)),
  };
}

/** Answers the usage queries; knows no transport. */
@Injectable()
export class UsageQueryService {
  constructor(
    private readonly repository: UsageQueryRepository,
    private readonly metrics: UsageMetrics,
  ) {}

  async listLogs(req: {
    scope: UsageScope;
    filters: UsageLogFilters;
    limit: number;
    cursor?: string;
  }): Promise<UsageLogsPage<UsageLogView | OperatorUsageLogView>> {
    const cursor = req.cursor ? decodeLogCursor(req.cursor) : undefined;
    if (req.filters.from && req.filters.to) window({ from: req.filters.from, to: req.filters.to });
    const rows = await this.metrics.timeQuery('logs', () =>
      this.repository.listLogs(req.scope, req.filters, req.limit + 1, cursor),
    );
    const page = rows.slice(0, req.limit);
    const last = page[page.length - 1];
    const view = req.scope.kind === 'operator' ? toOperatorLogView : toLogView;
    return {
      data: page.map(view),
      nextCursor:
        rows.length > req.limit && last
          ? encodeLogCursor({ createdAt: last.created_at, requestId: last.request_id })
          : null,
    };
  }

  async summarize(req: {
    scope: UsageScope;
    filters: UsageRangeFilters & { from: string; to: string };
    groupBy: UsageGroupBy;
  }): Promise<UsageSummary> {
    const { from, to } = window(req.filters);
    if (req.groupBy === 'account' && req.scope.kind !== 'operator') {
      throw invalid('groupBy', 'must be one of day, hour, model, key');
    }
    const days = (to.getTime() - from.getTime()) / DAY_MS;
    if (req.groupBy === 'hour' && days > USAGE_HOURLY_MAX_DAYS) {
      throw invalid('from', `groupBy=hour covers at most ${USAGE_HOURLY_MAX_DAYS} days`);
    }
    if (req.groupBy === 'day' && days > USAGE_DAILY_MAX_DAYS) {
      throw invalid('from', `groupBy=day covers at most ${USAGE_DAILY_MAX_DAYS} days`);
    }
    const segments = splitWindow(from, to, req.groupBy !== 'hour');
    const rows = await this.metrics.timeQuery('summary', () =>
      this.repository.summarize(req.scope, req.filters, req.groupBy, segments, USAGE_SUMMARY_MAX_GROUPS + 1),
    );
    const groups = rows.filter((r) => !r.is_total);
    const totals = rows.find((r) => r.is_total);
    return {
      from: from.toISOString(),
      to: to.toISOString(),
      groupBy: req.groupBy,
      groups: groups.slice(0, USAGE_SUMMARY_MAX_GROUPS).map((g) => ({
        key: g.key ?? '',
        ...(req.groupBy === 'key' ? { keyName: g.key_name ?? '' } : {}),
        ...toTotals(g),
      })),
      totals: toTotals(totals),
      truncated: groups.length > USAGE_SUMMARY_MAX_GROUPS,
    };
  }

  /** The dashboard page: the last 7 or 30 UTC days including today, from the daily rollup. */
  async dashboard(
    req: { scope: UsageScope; range: UsageDashboardRange },
    now = new Date(),
  ): Promise<UsageDashboard> {
    const dayCount = req.range === '7d' ? 7 : 30;
    const today = floorDay(now);
    const first = addDays(today, -(dayCount - 1));
    const fromDay = utcDate(first);
    const toDay = utcDate(today);
    const [daily, top, recent] = await this.metrics.timeQuery('dashboard', () =>
      Promise.all([
        this.repository.dailySpend(req.scope, fromDay, toDay),
        this.repository.topModels(req.scope, fromDay, toDay, DASHBOARD_TOP_MODELS),
        this.repository.listLogs(req.scope, {}, DASHBOARD_RECENT),
      ]),
    );
    const byDate = new Map(daily.map((d) => [d.date, d]));
    const days = Array.from({ length: dayCount }, (_, i) => {
      const date = utcDate(addDays(first, i));
      const d = byDate.get(date);
      return {
        date,
        spendMicro: n(d?.cost_micro_usd),
        requests: n(d?.requests),
        failedRequests: n(d?.failed_requests),
      };
    });
    const spendMicro = days.reduce((s, d) => s + d.spendMicro, 0);
    return {
      range: req.range,
      from: first.toISOString(),
      to: addDays(today, 1).toISOString(),
      totals: {
        spendUsd: microToUsd(spendMicro),
        requests: days.reduce((s, d) => s + d.requests, 0),
        failedRequests: days.reduce((s, d) => s + d.failedRequests, 0),
      },
      daily: days.map((d) => ({
        date: d.date,
        spendUsd: microToUsd(d.spendMicro),
        requests: d.requests,
        failedRequests: d.failedRequests,
      })),
      topModels: top.map((m) => ({
        model: m.model,
        spendUsd: microToUsd(n(m.cost_micro_usd)),
        requests: n(m.requests),
      })),
      recentActivity: recent.map((r) => {
        const inputTokens = n(r.input_tokens);
        const outputTokens = n(r.output_tokens);
        return {
          requestId: r.request_id,
          createdAt: r.created_at.toISOString(),
          model: r.model,
          keyName: r.key_name,
          status: r.status,
          inputTokens,
          outputTokens,
          totalTokens:
            inputTokens +
            outputTokens +
            n(r.cache_read_tokens) +
            n(r.cache_write_5m_tokens) +
            n(r.cache_write_1h_tokens),
          costUsd: microToUsd(n(r.cost_micro_usd)),
        };
      }),
    };
  }

  /** Per-channel health and economics at hour resolution (the window widens to whole hours). */
  async channelStats(req: UsageChannelStatsRequest): Promise<UsageChannelStatsView> {
    const w = window(req);
    const from = floorHour(w.from);
    const to = ceilHour(w.to);
    const rows = await this.metrics.timeQuery('channels', () =>
      this.repository.channelStats(from, to, req.model),
    );
    return {
      from: from.toISOString(),
      to: to.toISOString(),
      channels: rows.map((r) => {
        const attempts = n(r.attempts);
        const failedAttempts = n(r.failed_attempts);
        const requests = n(r.requests);
        const ttftCount = n(r.ttft_count);
        const cost = n(r.cost_micro_usd);
        const listCost = n(r.list_cost_micro_usd);
        return {
          channelId: r.channel_id,
          channelName: r.channel_name,
          requests,
          failedRequests: n(r.failed_requests),
          attempts,
          failedAttempts,
          errorRate: attempts === 0 ? 0 : Math.round((failedAttempts / attempts) * 10_000) / 10_000,
          avgLatencyMs: requests === 0 ? null : Math.round(n(r.latency_ms_sum) / requests),
          avgTtftMs: ttftCount === 0 ? null : Math.round(n(r.ttft_ms_sum) / ttftCount),
          inputTokens: n(r.input_tokens),
          outputTokens: n(r.output_tokens),
          costUsd: microToUsd(cost),
          upstreamCostUsd: microToUsd(listCost),
          marginUsd: microToUsd(cost - listCost),
        };
      }),
    };
  }
}
