import { applyDecorators } from '@nestjs/common';
import { ApiQuery, ApiResponse } from '@nestjs/swagger';
import type { SchemaObject } from '@nestjs/swagger/dist/interfaces/open-api-spec.interface';
import { USAGE_LOGS_MAX_LIMIT } from '@torouter/contracts';
import { controlPlaneErrorEnvelope } from '../../docs/api-schemas';

/** OpenAPI schemas and query parameters of the usage routes. */

const usd = (description: string): SchemaObject => ({ type: 'number', description });
const int = (description?: string): SchemaObject => ({
  type: 'integer',
  ...(description ? { description } : {}),
});

const logProperties: Record<string, SchemaObject> = {
  requestId: { type: 'string', description: 'The x-request-id of the request' },
  createdAt: { type: 'string', format: 'date-time', description: 'When the request started (UTC)' },
  keyId: { type: 'string', format: 'uuid' },
  keyName: { type: 'string' },
  model: { type: 'string', description: 'The catalog model that served it' },
  requestedModel: { type: 'string', description: 'The model string the client sent' },
  channelName: { type: 'string', nullable: true, description: 'The upstream channel that answered' },
  endpoint: { type: 'string', example: '/v1/chat/completions' },
  status: { type: 'string', enum: ['success', 'error', 'cancelled'] },
  httpStatus: int(),
  errorCode: { type: 'string', description: 'Present on failed requests' },
  inputTokens: int(),
  cacheReadTokens: int(),
  cacheWrite5mTokens: int(),
  cacheWrite1hTokens: int(),
  outputTokens: int(),
  reasoningTokens: int('Part of outputTokens'),
  costUsd: usd('What the request cost (0 for failed requests)'),
  latencyMs: int(),
  ttftMs: { type: 'integer', nullable: true, description: 'Time to first token (streams)' },
  stream: { type: 'boolean' },
  retries: int('Channels tried before the one that answered'),
  clientIp: { type: 'string' },
};

const logRequired = [
  'requestId',
  'createdAt',
  'keyId',
  'keyName',
  'model',
  'channelName',
  'status',
  'inputTokens',
  'cacheReadTokens',
  'cacheWrite5mTokens',
  'cacheWrite1hTokens',
  'outputTokens',
  'reasoningTokens',
  'costUsd',
  'latencyMs',
  'ttftMs',
  'stream',
  'clientIp',
];

export const usageLogsPageSchema: SchemaObject = {
  type: 'object',
  required: ['data', 'nextCursor'],
  properties: {
    data: { type: 'array', items: { type: 'object', required: logRequired, properties: logProperties } },
    nextCursor: {
      type: 'string',
      nullable: true,
      description: 'Pass as `cursor` for the next (older) page; null on the last page',
    },
  },
};

export const adminUsageLogsPageSchema: SchemaObject = {
  type: 'object',
  required: ['data', 'nextCursor'],
  properties: {
    data: {
      type: 'array',
      items: {
        type: 'object',
        required: [...logRequired, 'accountId'],
        properties: {
          ...logProperties,
          accountId: { type: 'string', format: 'uuid' },
          channelId: { type: 'string', format: 'uuid', nullable: true },
          attempts: {
            type: 'array',
            items: {
              type: 'object',
              properties: {
                channelId: { type: 'string', format: 'uuid' },
                channelName: { type: 'string' },
                outcome: { type: 'string' },
                httpStatus: { type: 'integer', nullable: true },
              },
            },
          },
          usageSource: { type: 'string', enum: ['upstream', 'estimated', 'none'] },
          listCostUsd: usd('The same tokens at the catalog list price, before the plan multiplier'),
          planId: { type: 'string', nullable: true },
        },
      },
    },
    nextCursor: { type: 'string', nullable: true },
  },
};

const totalsProperties: Record<string, SchemaObject> = {
  requests: int('Successful requests'),
  failedRequests: int('Requests that failed (no spend)'),
  cancelledRequests: int('Requests the client abandoned'),
  inputTokens: int(),
  outputTokens: int(),
  cacheReadTokens: int(),
  cacheWriteTokens: int('Cache creation: 5-minute plus 1-hour writes'),
  reasoningTokens: int(),
  costUsd: usd('Spend'),
};

export const usageSummarySchema: SchemaObject = {
  type: 'object',
  required: ['from', 'to', 'groupBy', 'groups', 'totals', 'truncated'],
  properties: {
    from: { type: 'string', format: 'date-time' },
    to: { type: 'string', format: 'date-time', description: 'Exclusive' },
    groupBy: { type: 'string', enum: ['day', 'hour', 'model', 'key', 'account'] },
    groups: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          key: {
            type: 'string',
            description: 'YYYY-MM-DD (day), ISO hour (hour), model id, key id or account id',
          },
          keyName: { type: 'string', description: 'groupBy=key only' },
          ...totalsProperties,
        },
      },
    },
    totals: { type: 'object', properties: totalsProperties },
    truncated: { type: 'boolean', description: 'More groups than returned (the smallest by spend were cut)' },
  },
};

export const usageDashboardSchema: SchemaObject = {
  type: 'object',
  required: ['balanceUsd', 'range', 'from', 'to', 'totals', 'daily', 'topModels', 'recentActivity'],
  properties: {
    balanceUsd: {
      type: 'number',
      nullable: true,
      description: 'Current balance; null when billing did not answer in time (the rest is still current)',
    },
    range: { type: 'string', enum: ['7d', '30d'] },
    from: { type: 'string', format: 'date-time' },
    to: { type: 'string', format: 'date-time' },
    totals: {
      type: 'object',
      properties: { spendUsd: usd('Spend in the range'), requests: int(), failedRequests: int() },
    },
    daily: {
      type: 'array',
      description: 'One entry per UTC day, oldest first, zero-filled',
      items: {
        type: 'object',
        properties: {
          date: { type: 'string', format: 'date' },
          spendUsd: usd('Spend that day'),
          requests: int('Every request, failed ones included'),
          failedRequests: int(),
        },
      },
    },
    topModels: {
      type: 'array',
      items: {
        type: 'object',
        properties: { model: { type: 'string' }, spendUsd: usd('Spend'), requests: int() },
      },
    },
    recentActivity: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          requestId: { type: 'string' },
          createdAt: { type: 'string', format: 'date-time' },
          model: { type: 'string' },
          keyName: { type: 'string' },
          status: { type: 'string', enum: ['success', 'error', 'cancelled'] },
          inputTokens: int(),
          outputTokens: int(),
          totalTokens: int(),
          costUsd: usd('Cost'),
        },
      },
    },
  },
};

export const channelStatsSchema: SchemaObject = {
  type: 'object',
  properties: {
    from: { type: 'string', format: 'date-time' },
    to: { type: 'string', format: 'date-time' },
    channels: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          channelId: { type: 'string', format: 'uuid' },
          channelName: { type: 'string' },
          requests: int('Requests this channel answered'),
          failedRequests: int(),
          attempts: int('Every try of this channel, failovers included'),
          failedAttempts: int(),
          errorRate: { type: 'number', description: 'failedAttempts / attempts' },
          avgLatencyMs: { type: 'number', nullable: true },
          avgTtftMs: { type: 'number', nullable: true },
          inputTokens: int(),
          outputTokens: int(),
          costUsd: usd('Charged to customers'),
          upstreamCostUsd: usd('The same tokens at the catalog (provider list) price'),
          marginUsd: usd('costUsd − upstreamCostUsd'),
        },
      },
    },
  },
};

const DATE_HELP = 'ISO 8601 date (whole UTC day) or date-time (UTC when no offset)';

/** Query parameters, documented once. */
export const Q = {
  from: ApiQuery({ name: 'from', required: false, description: `Inclusive start. ${DATE_HELP}` }),
  to: ApiQuery({
    name: 'to',
    required: false,
    description: `End: a date includes that whole day; a date-time is exclusive. ${DATE_HELP}`,
  }),
  keyId: ApiQuery({ name: 'keyId', required: false, schema: { type: 'string', format: 'uuid' } }),
  model: ApiQuery({ name: 'model', required: false, description: 'A catalog model id' }),
  status: ApiQuery({ name: 'status', required: false, enum: ['success', 'error', 'cancelled'] }),
  limit: ApiQuery({
    name: 'limit',
    required: false,
    schema: { type: 'integer', minimum: 1, maximum: USAGE_LOGS_MAX_LIMIT, default: 50 },
  }),
  cursor: ApiQuery({ name: 'cursor', required: false, description: '`nextCursor` of the previous page' }),
  accountId: ApiQuery({ name: 'accountId', required: false, schema: { type: 'string', format: 'uuid' } }),
  channel: ApiQuery({ name: 'channel', required: false, description: 'Serving channel name' }),
  range: ApiQuery({ name: 'range', required: false, enum: ['7d', '30d'], description: 'Default 7d' }),
};

/** Control-plane error responses, one per status. */
export function UsageErrors(errors: Record<number, string>): MethodDecorator {
  return applyDecorators(
    ...Object.entries(errors).map(([status, description]) =>
      ApiResponse({ status: Number(status), description, schema: controlPlaneErrorEnvelope }),
    ),
  );
}

export const E400 = '`validation_failed`: a query parameter is malformed (the message names it)';
export const E401 = '`unauthorized`: no valid session';
export const E401_ADMIN = '`unauthorized`: send the admin token or an admin session';
export const E403_ADMIN = '`forbidden`: the session is not an administrator';
export const E503 = '`service_unavailable`: the usage service did not answer';
