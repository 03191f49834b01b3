import { z } from 'zod';

/** Thrown at start when the environment is wrong; the message names every bad variable. */
export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n  - ${problems.join('\n  - ')}`);
    this.name = 'ConfigError';
  }
}

const booleanString = z
  .enum(['true', 'false', '1', '0', 'yes', 'no', ''])
  .transform((v) => v === 'true' || v === '1' || v === 'yes');

const port = z.coerce.number().int().min(0).max(65535);

/** Variables every service reads. */
export const sharedEnvSchema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  DATABASE_URL: z
    .string()
    .url()
    .refine((u) => /^postgres(ql)?:\/\//.test(u), 'must be a postgres:// URL')
    .default('postgres://postgres@127.0.0.1:5432/torouter'),
  REDIS_URL: z
    .string()
    .url()
    .refine((u) => /^rediss?:\/\//.test(u), 'must be a redis:// URL')
    .default('redis://127.0.0.1:6379'),
  NATS_URL: z
    .string()
    .min(1)
    .refine((u) => /^(nats|tls|wss?):\/\//.test(u), 'must be a nats:// URL (comma-separated for a cluster)')
    .default('nats://127.0.0.1:4222'),
  /** Prefixes every NATS subject and stream, Redis key and BullMQ queue. */
  TOROUTER_NAMESPACE: z
    .string()
    .regex(/^[a-zA-Z0-9_-]{1,40}$/, 'letters, digits, "-" and "_" only (max 40)')
    .default('torouter'),
  /** Master secret for encryption and signing; derive purpose-specific keys from it, never use it raw. */
  TOROUTER_SECRET: z.string().min(32, 'must be at least 32 characters'),
  TOROUTER_ADMIN_TOKEN: z.string().min(24, 'must be at least 24 characters'),
  NATS_REQUEST_TIMEOUT_MS: z.coerce.number().int().min(50).max(60_000).default(5_000),
});
export type SharedConfig = z.infer<typeof sharedEnvSchema>;

/** Internal services: their HTTP port serves only health and metrics. */
export const internalServiceEnvSchema = sharedEnvSchema.extend({
  HTTP_PORT: port.optional(),
});

export const routerEnvSchema = sharedEnvSchema.extend({
  PORT: port.default(8080),
  HOST: z.string().default('0.0.0.0'),
  /** The externally visible base URL (links in emails, printed examples). */
  PUBLIC_BASE_URL: z.string().url().optional(),
  /** CIDRs whose X-Forwarded-For is believed; empty = the socket peer is the client. */
  TRUSTED_PROXIES: z.string().default(''),
  /** Allow channels whose base URL resolves to loopback/private/link-local addresses (tests, local). */
  ALLOW_PRIVATE_UPSTREAMS: booleanString.default('false'),
  MAX_BODY_BYTES: z.coerce
    .number()
    .int()
    .min(1024)
    .default(10 * 1024 * 1024),
});
export type RouterConfig = z.infer<typeof routerEnvSchema>;

export const authEnvSchema = internalServiceEnvSchema.extend({
  SMTP_URL: z
    .string()
    .refine((u) => u === '' || /^smtps?:\/\//.test(u), 'must be an smtp:// or smtps:// URL')
    .default(''),
  SMTP_FROM: z.string().default('ToRouter <no-reply@torouter.local>'),
  PUBLIC_BASE_URL: z.string().url().default('http://localhost:8080'),
});
export type AuthConfig = z.infer<typeof authEnvSchema>;

export const keysEnvSchema = internalServiceEnvSchema;
export type KeysConfig = z.infer<typeof keysEnvSchema>;

export const billingEnvSchema = internalServiceEnvSchema.extend({
  STRIPE_SECRET_KEY: z.string().default(''),
  STRIPE_WEBHOOK_SECRET: z.string().default(''),
  STRIPE_API_BASE: z.string().url().default('https://api.stripe.com'),
});
export type BillingConfig = z.infer<typeof billingEnvSchema>;

export const usageEnvSchema = internalServiceEnvSchema;
export type UsageConfig = z.infer<typeof usageEnvSchema>;

/**
 * Parses `env` with `schema`. Empty strings count as unset so `FOO=` falls back to the default, which is
 * what a platform engineer expects from a blank line in a .env or ConfigMap.
 */
export function loadConfig<S extends z.ZodTypeAny>(
  schema: S,
  env: Record<string, string | undefined> = process.env,
): z.infer<S> {
  const cleaned: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) if (v !== undefined && v !== '') cleaned[k] = v;
  const parsed = schema.safeParse(cleaned);
  if (!parsed.success) {
    throw new ConfigError(
      parsed.error.issues.map((i) => {
        const name = i.path.join('.');
        const given = name in cleaned ? '' : ' (not set)';
        return `${name}${given}: ${i.message}`;
      }),
    );
  }
  return parsed.data as z.infer<S>;
}
