import type { SchemaObject } from '@nestjs/swagger/dist/interfaces/open-api-spec.interface';
import { z } from 'zod';

export const modalities = ['text', 'multimodal', 'image', 'video', 'audio', 'embedding', 'rerank'] as const;

/** A USD amount per million tokens (or per request): a number or decimal string, at most 6 decimals. */
const usd = z.union([
  z.number().finite().min(0),
  z
    .string()
    .trim()
    .regex(/^\d+(\.\d{1,6})?$/, 'a USD amount with at most 6 decimals'),
]);
const tokens = z.number().int().min(1).max(100_000_000);

const modelFields = {
  vendor: z.string().trim().min(1).max(64),
  modality: z.enum(modalities),
  inputUsdPerMTok: usd,
  outputUsdPerMTok: usd,
  cacheReadUsdPerMTok: usd.nullable(),
  cacheWrite5mUsdPerMTok: usd.nullable(),
  cacheWrite1hUsdPerMTok: usd.nullable(),
  perRequestUsd: usd.nullable(),
  contextWindow: tokens.nullable(),
  maxOutputTokens: tokens.nullable(),
  supportsThinking: z.boolean(),
};

export const createModelBody = z
  .object({
    id: z
      .string()
      .trim()
      .min(1)
      .max(200)
      .regex(/^[A-Za-z0-9][A-Za-z0-9._:/@-]*$/, 'letters, digits and . _ : / @ - only')
      .refine(
        (id) => !id.endsWith('-thinking'),
        'must not end in -thinking (that suffix switches reasoning on)',
      ),
    ...modelFields,
    cacheReadUsdPerMTok: modelFields.cacheReadUsdPerMTok.optional(),
    cacheWrite5mUsdPerMTok: modelFields.cacheWrite5mUsdPerMTok.optional(),
    cacheWrite1hUsdPerMTok: modelFields.cacheWrite1hUsdPerMTok.optional(),
    perRequestUsd: modelFields.perRequestUsd.optional(),
    contextWindow: modelFields.contextWindow.optional(),
    maxOutputTokens: modelFields.maxOutputTokens.optional(),
    supportsThinking: modelFields.supportsThinking.default(false),
  })
  .strict();
export type CreateModelBody = z.infer<typeof createModelBody>;

export const updateModelBody = z.object(modelFields).partial().strict();
export type UpdateModelBody = z.infer<typeof updateModelBody>;

const price = (description: string): SchemaObject => ({ type: 'number', example: 1.25, description });
const nullablePrice = (description: string): SchemaObject => ({ ...price(description), nullable: true });

const writable: Record<string, SchemaObject> = {
  vendor: { type: 'string', example: 'openai' },
  modality: { type: 'string', enum: [...modalities] },
  inputUsdPerMTok: price('USD per million input tokens'),
  outputUsdPerMTok: price('USD per million output tokens (reasoning included)'),
  cacheReadUsdPerMTok: nullablePrice('USD per million cache-read tokens; null = the input price'),
  cacheWrite5mUsdPerMTok: nullablePrice(
    'USD per million tokens written to a 5-minute cache; null = the input price',
  ),
  cacheWrite1hUsdPerMTok: nullablePrice(
    'USD per million tokens written to a 1-hour cache; null = the input price',
  ),
  perRequestUsd: nullablePrice('USD added to every request'),
  contextWindow: { type: 'integer', nullable: true, example: 400000 },
  maxOutputTokens: { type: 'integer', nullable: true, example: 128000 },
  supportsThinking: { type: 'boolean', description: 'accepts the -thinking suffix' },
};

export const createModelSchema: SchemaObject = {
  type: 'object',
  required: ['id', 'vendor', 'modality', 'inputUsdPerMTok', 'outputUsdPerMTok'],
  properties: { id: { type: 'string', example: 'gpt-5' }, ...writable },
};

export const updateModelSchema: SchemaObject = { type: 'object', properties: writable };

export const modelSchema: SchemaObject = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    ...writable,
    createdAt: { type: 'string', format: 'date-time' },
    updatedAt: { type: 'string', format: 'date-time' },
  },
};

export const modelListSchema: SchemaObject = {
  type: 'object',
  properties: { data: { type: 'array', items: modelSchema } },
};
