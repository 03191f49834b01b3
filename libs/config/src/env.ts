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
  /** Channel cool-down after repeated failures: base × 2^streak, capped at the max (ms). */
  ROUTER_CHANNEL_COOLDOWN_BASE_MS: z.coerce.number().int().min(1).default(5_000),
  ROUTER_CHANNEL_COOLDOWN_MAX_MS: z.coerce.number().int().min(1).default(300_000),
  /** Consecutive failures (5xx, timeouts, connect errors) before a channel cools down. */
  ROUTER_CHANNEL_FAILURE_THRESHOLD: z.coerce.number().int().min(1).default(3),
  /** How often each router sends its batched API-key "last used" times and IPs to keys (ms). */
  ROUTER_KEY_LAST_USED_FLUSH_MS: z.coerce.number().int().min(100).max(600_000).default(5_000),
  /** Most channels one request may try (failover never repeats a channel). */
  ROUTER_MAX_ATTEMPTS: z.coerce.number().int().min(1).max(20).default(4),
  /** A usage-outbox entry a router read but never forwarded (it died) is taken over after this idle (ms). */
  ROUTER_OUTBOX_CLAIM_IDLE_MS: z.coerce.number().int().min(100).max(3_600_000).default(30_000),
  /**
   * After draining the usage outbox, each router waits this long (ms) before reading again, so events
   * travel on to JetStream, billing and the usage log in batches instead of one by one (0: no wait).
   */
  ROUTER_OUTBOX_LINGER_MS: z.coerce.number().int().min(0).max(1_000).default(20),
});
export type RouterConfig = z.infer<typeof routerEnvSchema>;

export const authEnvSchema = internalServiceEnvSchema.extend({
  SMTP_URL: z
    .string()
    .refine((u) => u === '' || /^smtps?:\/\//.test(u), 'must be an smtp:// or smtps:// URL')
    .default(''),
  SMTP_FROM: z.string().default('ToRouter <no-reply@torouter.local>'),
  PUBLIC_BASE_URL: z.string().url().default('http://localhost:8080'),
  /** Comma-separated domains sign-up accepts (e.g. `example.com,company.org`); empty = any. */
  ALLOWED_EMAIL_DOMAINS: z
    .string()
    .default('')
    .transform((s) =>
      s
        .split(/[\s,]+/)
        .map((d) => d.trim().toLowerCase().replace(/^@/, ''))
        .filter(Boolean),
    )
    .refine((ds) => ds.every((d) => /^[a-z0-9.-]+\.[a-z0-9-]+$/.test(d)), 'comma-separated domain names'),
  /** Minimum password length; 6 per the product, configurable upward only. */
  PASSWORD_MIN_LENGTH: z.coerce.number().int().min(6).max(128).default(6),
  /** Failed sign-ins (and wrong passwords/codes on account routes) allowed per account / per IP per window. */
  AUTH_MAX_FAILURES_PER_ACCOUNT: z.coerce.number().int().min(1).default(5),
  AUTH_MAX_FAILURES_PER_IP: z.coerce.number().int().min(1).default(50),
  AUTH_FAILURE_WINDOW_SECONDS: z.coerce.number().int().min(1).default(900),
  /** Verification/reset/code emails: at most one per address per cooldown; per-IP requests per hour. */
  AUTH_EMAIL_COOLDOWN_SECONDS: z.coerce.number().int().min(0).default(60),
  AUTH_EMAIL_REQUESTS_PER_IP_PER_HOUR: z.coerce.number().int().min(1).default(20),
  AUTH_SIGNUPS_PER_IP_PER_HOUR: z.coerce.number().int().min(1).default(30),
});
export type AuthConfig = z.infer<typeof authEnvSchema>;

export const keysEnvSchema = internalServiceEnvSchema;
export type KeysConfig = z.infer<typeof keysEnvSchema>;

export const billingEnvSchema = internalServiceEnvSchema.extend({
  STRIPE_SECRET_KEY: z.string().default(''),
  STRIPE_WEBHOOK_SECRET: z.string().default(''),
  STRIPE_API_BASE: z.string().url().default('https://api.stripe.com'),
  /** Where Stripe Checkout sends the customer back (`/payment/result`, `/purchase`). */
  PUBLIC_BASE_URL: z.string().url().default('http://localhost:8080'),
  /** Custom top-up bounds in USD (the presets 10 … 5000 must lie inside them). */
  BILLING_TOPUP_MIN_USD: z.coerce.number().positive().default(5),
  BILLING_TOPUP_MAX_USD: z.coerce.number().positive().default(10_000),
  /** Credit every new account receives once (trial credit); 0 = none. */
  BILLING_SIGNUP_CREDIT_USD: z.coerce.number().min(0).default(0),
  /**
   * Settlement transactions one billing process runs at once (for different accounts), each settling up
   * to BILLING_SETTLEMENT_BATCH_SIZE jobs; 0 = this process only enqueues (no worker).
   */
  BILLING_SETTLEMENT_CONCURRENCY: z.coerce.number().int().min(0).max(256).default(8),
  /**
   * Most settlement jobs (usage events) settled together in one Postgres transaction; a worker holds up to
   * twice this many jobs at once.
   */
  BILLING_SETTLEMENT_BATCH_SIZE: z.coerce.number().int().min(1).max(1000).default(250),
  /** A settlement job whose worker stops renewing its lock for this long is rerun by another worker. */
  BILLING_SETTLEMENT_LOCK_MS: z.coerce.number().int().min(1000).default(30_000),
  /** How often due subscriptions are renewed, cancelled or expired (and overdue checkouts asked of Stripe). */
  BILLING_RENEWAL_INTERVAL_MS: z.coerce.number().int().min(100).default(60_000),
});
export type BillingConfig = z.infer<typeof billingEnvSchema>;

export const usageEnvSchema = internalServiceEnvSchema.extend({
  /** Raw request-log rows are dropped (by monthly partition) once entirely older than this; daily rollups stay. */
  USAGE_RETENTION_DAYS: z.coerce.number().int().min(31).max(36_500).default(400),
  /** How often the partition job runs (creates next months' partitions, drops expired ones). */
  USAGE_MAINTENANCE_INTERVAL_MS: z.coerce.number().int().min(1000).default(3_600_000),
});
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
