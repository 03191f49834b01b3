import { datetimeRegex, z } from 'zod';
import { Subjects } from './subjects';

const uuid = z.string().uuid();
const tokens = z.number().int().min(0);
/**
 * `z.string().datetime()`'s own check (UTC, `Z`, any precision), compiled once: zod 3 builds that regex
 * anew on every parse, and every usage event is parsed by billing and by the usage service.
 */
const utcDateTime = z.string().regex(datetimeRegex({}), 'Invalid datetime');

/**
 * The usage event: exactly one per admitted request, published durably by the router to JetStream
 * (stream `<namespace>_USAGE`, message id = request id, so a re-publish is dropped as a duplicate) and
 * consumed by billing (settlement, job id = request id) and usage (the request log). Never carries prompts
 * or completions. Money is integer micro-USD.
 */
export const UsageRecordedEvent = z.object({
  requestId: z.string().min(1).max(128),
  accountId: uuid,
  keyId: uuid,
  keyName: z.string(),
  /** The plan the key belongs to (billing's id), null when plans are not in use yet. */
  planId: z.string().nullable(),
  /** The model string the client sent, and the catalog model it resolved to. */
  requestedModel: z.string(),
  model: z.string(),
  /** The channel that produced the answer (null if none did). */
  channelId: uuid.nullable(),
  channelName: z.string().nullable(),
  /** Every channel tried, in order (failover never repeats one). */
  attempts: z.array(
    z.object({
      channelId: uuid,
      channelName: z.string(),
      outcome: z.string(),
      httpStatus: z.number().int().nullable(),
    }),
  ),
  surface: z.enum(['openai', 'anthropic', 'gemini']),
  endpoint: z.string(),
  stream: z.boolean(),
  /** success: answered; error: failed (upstream or gateway) after admission; cancelled: the client left. */
  status: z.enum(['success', 'error', 'cancelled']),
  httpStatus: z.number().int(),
  errorCode: z.string().nullable(),
  /** upstream: from the provider's usage block; estimated: counted locally (cut stream, no usage sent). */
  usageSource: z.enum(['upstream', 'estimated', 'none']),
  inputTokens: tokens,
  cacheReadTokens: tokens,
  cacheWrite5mTokens: tokens,
  cacheWrite1hTokens: tokens,
  outputTokens: tokens,
  reasoningTokens: tokens,
  /** What the request costs the customer, priced at the catalog price in force (× plan multiplier). */
  costMicroUsd: z.number().int().min(0),
  /** The price snapshot used, micro-USD per million tokens (per request for perRequest). */
  price: z.object({
    input: z.number().int(),
    output: z.number().int(),
    cacheRead: z.number().int(),
    cacheWrite5m: z.number().int(),
    cacheWrite1h: z.number().int(),
    perRequest: z.number().int(),
    multiplierBp: z.number().int(),
  }),
  /** The spend reservation this request held (billing releases it on settlement), if any. */
  reservationId: z.string().nullable(),
  reservedMicroUsd: z.number().int().min(0),
  startedAt: utcDateTime,
  finishedAt: utcDateTime,
  latencyMs: z.number().int().min(0),
  ttftMs: z.number().int().min(0).nullable(),
  clientIp: z.string(),
});
export type UsageRecordedEvent = z.infer<typeof UsageRecordedEvent>;

export const CatalogChangedEvent = z.object({ reason: z.string() });
export type CatalogChangedEvent = z.infer<typeof CatalogChangedEvent>;

/** JetStream streams; the runtime name is `<namespace>_<name>`, subjects are namespaced as usual. */
export const Streams = {
  usage: { name: 'USAGE', subjects: [Subjects.routerRequestCompleted] },
} as const;

/** Durable consumer names (persistent: never rename). */
export const Consumers = {
  billingSettlement: 'billing-settlement',
  usageLog: 'usage-log',
} as const;

export function streamName(namespace: string, name: string): string {
  return `${namespace}_${name}`;
}

export interface RouterEventContracts {
  [Subjects.routerCatalogChanged]: CatalogChangedEvent;
}
