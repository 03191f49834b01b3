import { Inject, Injectable } from '@nestjs/common';
import type { Redis } from 'ioredis';
import type { UsageRecord } from '../admission/admission.types';
import {
  windowAdjustArgs,
  windowReportOf,
  type WindowChange,
  type WindowState,
} from '../limits/request-windows';
import { spendCheckArgs, spendKeysOf, type SpendCounter } from '../spend/spend-counters';
import { REDIS } from '../tokens';
import { UsageOutbox } from '../usage-events/usage-outbox';
import { quotaAdmitScript, quotaSettleScript } from './quota.lua';

export interface QuotaAdmitRequest {
  /** The key's windows hash and `windows_check`'s arguments (none: the key has no windows). */
  windows?: { redisKey: string; args: Array<string | number> };
  /** The spend counters to reserve on (none: nothing caps the request's spend). */
  spend?: { counters: SpendCounter[]; reservationId: string; worstMicroUsd: number; ttlMs: number };
}

export interface QuotaAdmitResult {
  status: 'ok' | 'windows' | 'dup' | 'missing' | 'short';
  /** Redis time of the check. */
  now: number;
  /** When a window refuses: ms until every full window has room; -1 = never. */
  waitMs: number;
  /** Spend counters (indices) that are missing or short. */
  counters: number[];
  windows: WindowState[];
}

export interface QuotaSettleRequest {
  windows?: { redisKey: string; changes: WindowChange[] };
  spend?: { counters: SpendCounter[]; reservationId: string; exactMicroUsd: number; ttlMs: number };
  record?: UsageRecord;
}

type ScriptFn = (...args: Array<string | number>) => Promise<unknown>;

/** Any key: the windows slot of the scripts when a request has no windows (never read or written). */
const noWindowsKey = 'keywin:none';

/**
 * The request path's only Redis traffic: one script to admit (windows + spend reservation), one to settle
 * (window corrections + exact cost + the usage event into the outbox). Shared by every router replica.
 */
@Injectable()
export class QuotaStore {
  private readonly admitFn: ScriptFn;
  private readonly settleFn: ScriptFn;

  constructor(@Inject(REDIS) redis: Redis) {
    redis.defineCommand('torouterQuotaAdmit', { lua: quotaAdmitScript });
    redis.defineCommand('torouterQuotaSettle', { lua: quotaSettleScript });
    const commands = redis as unknown as Record<string, ScriptFn>;
    this.admitFn = commands.torouterQuotaAdmit.bind(redis);
    this.settleFn = commands.torouterQuotaSettle.bind(redis);
  }

  async admit({ windows, spend }: QuotaAdmitRequest): Promise<QuotaAdmitResult> {
    const windowArgs = windows?.args ?? [];
    const keys = [windows?.redisKey ?? noWindowsKey, ...(spend ? spendKeysOf(spend.counters) : [])];
    const raw = (await this.admitFn(
      keys.length,
      ...keys,
      windowArgs.length / 5,
      spend?.counters.length ?? 0,
      spend?.reservationId ?? '',
      String(spend?.worstMicroUsd ?? 0),
      String(spend?.ttlMs ?? 0),
      ...windowArgs,
      ...(spend ? spendCheckArgs(spend.counters) : []),
    )) as Array<string | number>;
    const m = Number(raw[3]);
    return {
      status: String(raw[0]) as QuotaAdmitResult['status'],
      now: Number(raw[1]),
      waitMs: Number(raw[2]),
      counters: raw.slice(4, 4 + m).map(Number),
      windows: windowReportOf(raw, 4 + m),
    };
  }

  /** Resolves once everything is written (or rejects, having written nothing: the script is atomic). */
  async settle({ windows, spend, record }: QuotaSettleRequest): Promise<void> {
    const adjust = windows ? windowAdjustArgs(windows.changes) : [];
    const keys = [windows?.redisKey ?? noWindowsKey, ...(spend ? spendKeysOf(spend.counters) : [])];
    if (record) keys.push(UsageOutbox.streamKey);
    await this.settleFn(
      keys.length,
      ...keys,
      adjust.length / 4,
      spend?.counters.length ?? 0,
      spend?.reservationId ?? '',
      String(spend?.exactMicroUsd ?? 0),
      String(spend?.ttlMs ?? 0),
      record ? '1' : '0',
      ...adjust,
      ...(record ? [record.requestId, record.json] : []),
    );
  }
}
