import type { UsageScope } from '@torouter/contracts';
import { microToUsdString } from '@torouter/money';
import { toNumber as n, type RequestLogRecord } from '../queries/usage-query.repository';

const customerColumns = [
  'request_id',
  'created_at',
  'key_id',
  'key_name',
  'model',
  'requested_model',
  'channel',
  'endpoint',
  'status',
  'http_status',
  'error_code',
  'input_tokens',
  'cache_read_tokens',
  'cache_write_5m_tokens',
  'cache_write_1h_tokens',
  'output_tokens',
  'reasoning_tokens',
  'total_tokens',
  'cost_usd',
  'latency_ms',
  'ttft_ms',
  'stream',
  'retries',
  'client_ip',
];

/** The CSV header: operators also get the account and the list-price cost. */
export function csvColumns(scope: UsageScope): string[] {
  return scope.kind === 'operator'
    ? ['account_id', ...customerColumns, 'list_cost_usd']
    : [...customerColumns];
}

/** One row, in `csvColumns` order. Money as exact decimal strings (never floats). */
export function toCsvRecord(r: RequestLogRecord, scope: UsageScope): Array<string | number> {
  const input = n(r.input_tokens);
  const cacheRead = n(r.cache_read_tokens);
  const cw5m = n(r.cache_write_5m_tokens);
  const cw1h = n(r.cache_write_1h_tokens);
  const output = n(r.output_tokens);
  const record: Array<string | number> = [
    r.request_id,
    r.created_at.toISOString(),
    r.key_id,
    r.key_name,
    r.model,
    r.requested_model,
    r.channel_name ?? '',
    r.endpoint,
    r.status,
    r.http_status,
    r.error_code ?? '',
    input,
    cacheRead,
    cw5m,
    cw1h,
    output,
    n(r.reasoning_tokens),
    input + cacheRead + cw5m + cw1h + output,
    microToUsdString(n(r.cost_micro_usd)),
    r.latency_ms,
    r.ttft_ms ?? '',
    r.stream ? 'true' : 'false',
    Math.max(0, r.attempts.length - 1),
    r.client_ip,
  ];
  return scope.kind === 'operator'
    ? [r.account_id, ...record, microToUsdString(n(r.list_cost_micro_usd))]
    : record;
}
