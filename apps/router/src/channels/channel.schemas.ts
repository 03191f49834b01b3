import type { SchemaObject } from '@nestjs/swagger/dist/interfaces/open-api-spec.interface';
import { z } from 'zod';
import { channelTypes } from './channel-types';

const apiKeyCredentials = z.object({ apiKey: z.string().trim().min(1).max(4096) }).strict();
const awsCredentials = z
  .object({
    accessKeyId: z.string().trim().min(1).max(256),
    secretAccessKey: z.string().trim().min(1).max(1024),
    region: z
      .string()
      .trim()
      .regex(/^[a-z]{2}(-[a-z]+)+-\d$/, 'an AWS region such as us-east-1'),
    sessionToken: z.string().trim().min(1).max(8192).optional(),
  })
  .strict();

const timeouts = z
  .object({
    connectMs: z.number().int().min(100).max(60_000).optional(),
    firstByteMs: z.number().int().min(100).max(900_000).optional(),
    totalMs: z.number().int().min(100).max(3_600_000).optional(),
  })
  .strict();

const modelId = z.string().trim().min(1).max(200);

const channelFields = {
  name: z.string().trim().min(1).max(100),
  type: z.enum(channelTypes),
  baseUrl: z.string().trim().url().max(2048).nullable(),
  credentials: z.union([apiKeyCredentials, awsCredentials]),
  models: z.array(modelId).max(1000),
  modelMapping: z.record(modelId, modelId),
  priority: z.number().int().min(-1_000_000).max(1_000_000),
  weight: z.number().int().min(0).max(1_000_000),
  plans: z.array(z.string().trim().min(1).max(200)).max(1000),
  enabled: z.boolean(),
  timeouts,
};

export const createChannelBody = z
  .object({
    ...channelFields,
    baseUrl: channelFields.baseUrl.optional(),
    credentials: channelFields.credentials.optional(),
    modelMapping: channelFields.modelMapping.default({}),
    priority: channelFields.priority.default(0),
    weight: channelFields.weight.default(1),
    plans: channelFields.plans.default([]),
    enabled: channelFields.enabled.default(true),
    timeouts: timeouts.default({}),
  })
  .strict();
export type CreateChannelBody = z.infer<typeof createChannelBody>;

export const updateChannelBody = z
  .object({
    name: channelFields.name,
    baseUrl: channelFields.baseUrl,
    credentials: channelFields.credentials,
    models: channelFields.models,
    modelMapping: channelFields.modelMapping,
    priority: channelFields.priority,
    weight: channelFields.weight,
    plans: channelFields.plans,
    enabled: channelFields.enabled,
    timeouts,
  })
  .partial()
  .strict();
export type UpdateChannelBody = z.infer<typeof updateChannelBody>;

// ——— OpenAPI ———

const timeoutsSchema: SchemaObject = {
  type: 'object',
  properties: {
    connectMs: { type: 'integer', example: 10000 },
    firstByteMs: {
      type: 'integer',
      example: 120000,
      description: 'also the longest silence inside a stream',
    },
    totalMs: { type: 'integer', example: 600000 },
  },
};

const writableProperties: Record<string, SchemaObject> = {
  name: { type: 'string', example: 'openai-main' },
  type: { type: 'string', enum: [...channelTypes] },
  baseUrl: {
    type: 'string',
    nullable: true,
    example: 'https://api.openai.com/v1',
    description:
      "Overrides the provider default; the form the provider's SDK takes (OpenAI-style ending in /v1, Anthropic and Gemini the host root). Loopback, private and link-local hosts are refused unless ALLOW_PRIVATE_UPSTREAMS=true.",
  },
  credentials: {
    description:
      'Write-only. `{apiKey}`, or for Bedrock `{accessKeyId, secretAccessKey, region, sessionToken?}`.',
    oneOf: [
      { type: 'object', required: ['apiKey'], properties: { apiKey: { type: 'string' } } },
      {
        type: 'object',
        required: ['accessKeyId', 'secretAccessKey', 'region'],
        properties: {
          accessKeyId: { type: 'string' },
          secretAccessKey: { type: 'string' },
          region: { type: 'string', example: 'us-east-1' },
          sessionToken: { type: 'string' },
        },
      },
    ],
  },
  models: { type: 'array', items: { type: 'string' }, example: ['gpt-5', 'gpt-5-mini'] },
  modelMapping: {
    type: 'object',
    additionalProperties: { type: 'string' },
    example: { 'gpt-5': 'gpt-5-2025-08-07' },
    description: 'requested model id → the id sent upstream',
  },
  priority: { type: 'integer', example: 0, description: 'lower wins' },
  weight: { type: 'integer', example: 1, description: 'share of traffic among channels of equal priority' },
  plans: { type: 'array', items: { type: 'string' }, description: 'plan ids allowed to use it; empty = all' },
  enabled: { type: 'boolean' },
  timeouts: timeoutsSchema,
};

export const createChannelSchema: SchemaObject = {
  type: 'object',
  required: ['name', 'type', 'models'],
  properties: writableProperties,
};

export const updateChannelSchema: SchemaObject = {
  type: 'object',
  properties: Object.fromEntries(Object.entries(writableProperties).filter(([k]) => k !== 'type')),
};

export const channelHealthSchema: SchemaObject = {
  type: 'object',
  properties: {
    status: { type: 'string', enum: ['healthy', 'cooling_down', 'unhealthy'] },
    cooldownUntil: { type: 'string', format: 'date-time', nullable: true },
    consecutiveFailures: { type: 'integer' },
    recentErrorRate: {
      type: 'number',
      nullable: true,
      description: 'failed share of attempts in the last 5 minutes',
    },
    recentRequests: { type: 'integer' },
    lastError: {
      type: 'object',
      nullable: true,
      properties: {
        at: { type: 'string', format: 'date-time' },
        status: { type: 'integer', nullable: true },
        type: { type: 'string' },
        message: { type: 'string' },
      },
    },
    lastSuccessAt: { type: 'string', format: 'date-time', nullable: true },
    lastLatencyMs: { type: 'integer', nullable: true },
  },
};

export const channelSchema: SchemaObject = {
  type: 'object',
  properties: {
    id: { type: 'string', format: 'uuid' },
    ...Object.fromEntries(Object.entries(writableProperties).filter(([k]) => k !== 'credentials')),
    hasCredentials: { type: 'boolean', description: 'credentials are stored (they are never returned)' },
    effectiveBaseUrl: { type: 'string', nullable: true },
    health: channelHealthSchema,
    createdAt: { type: 'string', format: 'date-time' },
    updatedAt: { type: 'string', format: 'date-time' },
  },
};

export const channelListSchema: SchemaObject = {
  type: 'object',
  properties: { data: { type: 'array', items: channelSchema } },
};

export const channelTestSchema: SchemaObject = {
  type: 'object',
  properties: {
    ok: { type: 'boolean' },
    model: { type: 'string' },
    latencyMs: { type: 'integer' },
    status: { type: 'integer', nullable: true, description: "the upstream's HTTP status" },
    error: {
      type: 'object',
      nullable: true,
      properties: { type: { type: 'string' }, message: { type: 'string' } },
    },
  },
};
