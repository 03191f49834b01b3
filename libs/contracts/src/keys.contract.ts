import { usdToMicro } from '@torouter/money';
import ipaddr from 'ipaddr.js';
import { z } from 'zod';
import { Subjects } from './subjects';

const uuid = z.string().uuid();
const keyHash = z.string().regex(/^[0-9a-f]{64}$/);

// ---- limits ----------------------------------------------------------------------------------------

/** Largest values a key limit may take (they stay safe integers in every unit they are converted to). */
export const KeyLimitMaxima = {
  quotaUsd: 1_000_000_000,
  expiresInDays: 36_500,
  requests: 1_000_000_000,
  tokens: 1_000_000_000_000,
  listEntries: 1_000,
  graceSeconds: 7 * 24 * 3600,
} as const;

/**
 * Strictly parses one IP rule: a CIDR or a bare address (= /32 or /128), IPv4 in dotted-decimal only
 * (`127.1`, octal `010.0.0.1` and hex are refused, unlike `ipaddr.parse`) or IPv6 without a zone.
 * An IPv4-mapped IPv6 range of prefix ≥ 96 becomes the IPv4 range it covers. Returns the canonical
 * network form (`10.0.0.5/24` → `10.0.0.0/24`, `2001:DB8::1` → `2001:db8::1/128`), or null.
 */
export function normaliseIpRule(entry: string): string | null {
  const parts = entry.split('/');
  if (parts.length > 2) return null;
  const ip = parseStrictIpLiteral(parts[0]);
  if (!ip) return null;
  const max = ip.kind() === 'ipv4' ? 32 : 128;
  let prefix = max;
  if (parts.length === 2) {
    if (!/^\d{1,3}$/.test(parts[1])) return null;
    prefix = Number(parts[1]);
    if (prefix > max) return null;
  }
  if (ip.kind() === 'ipv6' && (ip as ipaddr.IPv6).isIPv4MappedAddress() && prefix >= 96) {
    const v4 = (ip as ipaddr.IPv6).toIPv4Address();
    return `${ipaddr.IPv4.networkAddressFromCIDR(`${v4.toString()}/${prefix - 96}`).toString()}/${prefix - 96}`;
  }
  const cidr = `${ip.toString()}/${prefix}`;
  const network =
    ip.kind() === 'ipv4'
      ? ipaddr.IPv4.networkAddressFromCIDR(cidr)
      : ipaddr.IPv6.networkAddressFromCIDR(cidr);
  return `${network.toString()}/${prefix}`;
}

/** One address exactly as written (IPv4-mapped IPv6 stays IPv6), strictly; null otherwise. */
function parseStrictIpLiteral(text: string): ipaddr.IPv4 | ipaddr.IPv6 | null {
  if (ipaddr.IPv4.isValidFourPartDecimal(text)) return ipaddr.IPv4.parse(text);
  if (!text.includes(':') || text.includes('%') || !ipaddr.IPv6.isValid(text)) return null;
  // An embedded IPv4 tail must be dotted-decimal too (`::ffff:010.1.1.1` is refused).
  const tail = text.slice(text.lastIndexOf(':') + 1);
  if (tail.includes('.') && !ipaddr.IPv4.isValidFourPartDecimal(tail)) return null;
  return ipaddr.IPv6.parse(text);
}

/**
 * One address, strictly (see `normaliseIpRule`); IPv4-mapped IPv6 (`::ffff:a.b.c.d`) becomes IPv4, so a
 * peer seen on a dual-stack socket matches IPv4 rules. Null for anything else.
 */
export function parseStrictIp(text: string): ipaddr.IPv4 | ipaddr.IPv6 | null {
  const ip = parseStrictIpLiteral(text);
  if (ip?.kind() === 'ipv6' && (ip as ipaddr.IPv6).isIPv4MappedAddress())
    return (ip as ipaddr.IPv6).toIPv4Address();
  return ip;
}

/** The pages' text forms (comma- or newline-separated, trimmed) or a JSON array; empty entries dropped. */
function splitList(value: unknown): unknown {
  const parts =
    typeof value === 'string' ? value.split(/[\n\r,]/) : Array.isArray(value) ? (value as unknown[]) : null;
  if (!parts) return value;
  return parts.map((p) => (typeof p === 'string' ? p.trim() : p)).filter((p) => p !== '');
}

const dedupe = (list: string[]): string[] => [...new Set(list)];

/** IP whitelist/blacklist input: each entry validated, normalised, deduplicated. */
export const IpRuleList = z.preprocess(
  splitList,
  z
    .array(z.string(), { invalid_type_error: 'expected a list of CIDRs (text or array of strings)' })
    .max(KeyLimitMaxima.listEntries)
    .transform((entries, ctx) => {
      const out: string[] = [];
      entries.forEach((entry, i) => {
        const rule = normaliseIpRule(entry);
        if (rule === null) {
          ctx.addIssue({
            code: z.ZodIssueCode.custom,
            path: [i],
            message: `"${entry.slice(0, 100)}" is not an IPv4/IPv6 address or CIDR range (e.g. 203.0.113.0/24, 2001:db8::/32)`,
          });
        } else out.push(rule);
      });
      return dedupe(out);
    }),
);

/** Model whitelist input: literal model ids (vendor prefixes included), case-sensitive, deduplicated. */
export const ModelList = z.preprocess(
  splitList,
  z
    .array(
      z
        .string()
        .max(200)
        .regex(/^\S+$/, 'a model id contains no spaces; separate entries with commas or new lines'),
      { invalid_type_error: 'expected a list of model ids (text or array of strings)' },
    )
    .max(KeyLimitMaxima.listEntries)
    .transform(dedupe),
);

const requests = z.number().int().min(0).max(KeyLimitMaxima.requests);

/** Request windows and RPM/TPM; 0 = that window is off. */
export const RateLimitsInput = z
  .object({
    per5h: requests.optional(),
    per1d: requests.optional(),
    per7d: requests.optional(),
    rpm: requests.optional(),
    tpm: z.number().int().min(0).max(KeyLimitMaxima.tokens).optional(),
  })
  .strict();
export type RateLimitsInput = z.infer<typeof RateLimitsInput>;

export interface RateLimits {
  per5h: number;
  per1d: number;
  per7d: number;
  rpm: number;
  tpm: number;
}

/** A USD amount ≥ 0 with at most 6 decimals (it is stored as integer micro-USD). */
export const UsdAmount = z
  .number()
  .min(0)
  .max(KeyLimitMaxima.quotaUsd)
  .refine(
    (n) => {
      try {
        usdToMicro(n);
        return true;
      } catch {
        return false;
      }
    },
    { message: 'a USD amount with at most 6 decimals' },
  );

const name = z.string().trim().min(1).max(100);
const planId = z.string().trim().min(1).max(100);

/** Fields a key can be created with; absent ones take the plan's default key limits (or 0 / empty). */
const keySettingsFields = {
  planId: planId.optional(),
  quotaUsd: UsdAmount.optional(),
  expiresInDays: z.number().int().min(0).max(KeyLimitMaxima.expiresInDays).optional(),
  rateLimits: RateLimitsInput.optional(),
  ipWhitelist: IpRuleList.optional(),
  ipBlacklist: IpRuleList.optional(),
  modelWhitelist: ModelList.optional(),
};

/** Body of POST /api/v1/keys (the router validates it with this schema before forwarding). */
export const ApiKeyCreateBody = z.object({ name, ...keySettingsFields }).strict();
export type ApiKeyCreateBody = z.input<typeof ApiKeyCreateBody>;

/** Body of PATCH /api/v1/keys/{id}. `expiresAt` (ISO 8601, null = never) and `expiresInDays` are exclusive. */
export const ApiKeyUpdateBody = z
  .object({
    name: name.optional(),
    status: z.enum(['active', 'disabled']).optional(),
    expiresAt: z.string().datetime({ offset: true }).nullable().optional(),
    ...keySettingsFields,
  })
  .strict()
  .refine((b) => !(b.expiresAt !== undefined && b.expiresInDays !== undefined), {
    message: 'send either expiresAt or expiresInDays, not both',
    path: ['expiresAt'],
  });
export type ApiKeyUpdateBody = z.input<typeof ApiKeyUpdateBody>;

// ---- requests --------------------------------------------------------------------------------------

export const ApiKeyCreateRequest = z.object({
  accountId: uuid,
  name,
  ...keySettingsFields,
  /**
   * true (the public API): absent limits come from the plan's default key limits, asked of billing
   * (`planId`, or the account's default plan); billing unreachable → `service_unavailable`.
   * false (trusted internal callers such as the demo seed): absent limits are 0 / empty and `planId`
   * stays as given (null = the account's default plan, resolved by billing at request time).
   */
  inheritPlanDefaults: z.boolean().default(false),
});
export type ApiKeyCreateRequest = z.input<typeof ApiKeyCreateRequest>;

/** A key of one account; another account's key id is `not_found`. */
export const ApiKeyRef = z.object({ accountId: uuid, keyId: uuid });
export type ApiKeyRef = z.infer<typeof ApiKeyRef>;

export const ApiKeyListRequest = z.object({ accountId: uuid });
export type ApiKeyListRequest = z.infer<typeof ApiKeyListRequest>;

export const ApiKeyUpdateRequest = z.object({
  accountId: uuid,
  keyId: uuid,
  patch: ApiKeyUpdateBody,
});
export type ApiKeyUpdateRequest = z.input<typeof ApiKeyUpdateRequest>;

export const ApiKeyRotateRequest = z.object({
  accountId: uuid,
  keyId: uuid,
  /** How long the old key keeps working (0 = deleted at once). */
  graceSeconds: z.number().int().min(0).max(KeyLimitMaxima.graceSeconds).default(0),
});
export type ApiKeyRotateRequest = z.input<typeof ApiKeyRotateRequest>;

export const ApiKeyLookupRequest = z.object({
  /** SHA-256 of the full key, hex. The router never sends the secret itself. */
  keyHash,
});
export type ApiKeyLookupRequest = z.infer<typeof ApiKeyLookupRequest>;

/**
 * Billing adds what a request cost to the key's running spend (shown as `spentUsd`). Idempotent by
 * `requestId`: a redelivered settlement is not counted twice.
 */
export const ApiKeySpendAddRequest = z.object({
  keyId: uuid,
  requestId: z.string().min(1).max(128),
  amountMicroUsd: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
});
export type ApiKeySpendAddRequest = z.infer<typeof ApiKeySpendAddRequest>;
export interface ApiKeySpendAdded {
  keyId: string;
  /** false when this requestId had been added before (nothing changed). */
  applied: boolean;
  spentMicroUsd: number;
}

/**
 * The routers' batched "last used" records (each router flushes every few seconds, never per request).
 * An older record never overwrites a newer one.
 */
export const ApiKeyLastUsedRecordRequest = z.object({
  entries: z.array(z.object({ keyId: uuid, at: z.string().datetime(), ip: z.string().max(64) })).max(10_000),
});
export type ApiKeyLastUsedRecordRequest = z.infer<typeof ApiKeyLastUsedRecordRequest>;

// ---- views -----------------------------------------------------------------------------------------

export type ApiKeyStatus = 'active' | 'disabled';

/** A key as its owner sees it. Never the secret or its hash. Money as USD numbers (display only). */
export interface ApiKeyView {
  id: string;
  name: string;
  /** First and last characters, e.g. `sk-AbCd…wxyz`. */
  maskedKey: string;
  status: ApiKeyStatus;
  /** Past `expiresAt`: requests get 401 API_KEY_EXPIRED. */
  expired: boolean;
  /** billing's plan id; null = the account's default plan. */
  planId: string | null;
  /** Spend cap in USD; 0 = no key-specific cap. */
  quotaUsd: number;
  spentUsd: number;
  /** quotaUsd − spentUsd (never below 0); null when there is no cap. */
  remainingQuotaUsd: number | null;
  expiresAt: string | null;
  /** Set while a rotated key is in its grace period: it stops working at this time. */
  deleteAt: string | null;
  rateLimits: RateLimits;
  ipWhitelist: string[];
  ipBlacklist: string[];
  modelWhitelist: string[];
  lastUsedAt: string | null;
  lastUsedIp: string | null;
  createdAt: string;
  updatedAt: string;
}

export interface ApiKeyCreated extends ApiKeyView {
  /** The full secret: returned once, never stored. */
  key: string;
}

export interface ApiKeyList {
  data: ApiKeyView[];
}

export interface ApiKeyRotated {
  /** The new key (new secret and id, same settings). */
  key: ApiKeyCreated;
  /** The old key: `deleteAt` tells when it stops working (now, when graceSeconds was 0). */
  previous: ApiKeyView;
}

export interface ApiKeyDeleted {
  id: string;
}

/**
 * The policy snapshot the router caches per key hash. `found: false` is cached too (negative caching).
 * Money as integer micro-USD (`quotaUsd` is the same cap as a USD number, for display).
 */
export type ApiKeyPolicy =
  | { found: false }
  | {
      found: true;
      id: string;
      accountId: string;
      name: string;
      status: ApiKeyStatus;
      expiresAt: string | null;
      /** A rotated key in its grace period stops working at this time (treated as deleted). */
      deleteAt: string | null;
      /** billing's plan id; null = the account's default plan. */
      planId: string | null;
      /** Spend cap; 0 = none. Enforced by billing's spend step, not by keys. */
      quotaMicroUsd: number;
      quotaUsd: number;
      /** Request windows and RPM/TPM are counted under this id, shared by a key and its rotations. */
      limitsId: string;
      rateLimits: RateLimits;
      /** Canonical CIDRs (see `normaliseIpRule`). */
      ipWhitelist: string[];
      ipBlacklist: string[];
      /** Literal model ids; empty = the plan's catalog. */
      modelWhitelist: string[];
      /** Changes with every edit (ISO timestamp of the last change). */
      version: string;
    };
export type ApiKeyPolicyFound = Extract<ApiKeyPolicy, { found: true }>;

export const ApiKeyChangedEvent = z.object({
  keyId: uuid,
  keyHash,
  change: z.enum(['created', 'updated', 'deleted']),
});
export type ApiKeyChangedEvent = z.infer<typeof ApiKeyChangedEvent>;

export interface KeysRpcContracts {
  [Subjects.keysApiKeyCreate]: { request: ApiKeyCreateRequest; response: ApiKeyCreated };
  [Subjects.keysApiKeyLookup]: { request: ApiKeyLookupRequest; response: ApiKeyPolicy };
  [Subjects.keysApiKeyList]: { request: ApiKeyListRequest; response: ApiKeyList };
  [Subjects.keysApiKeyGet]: { request: ApiKeyRef; response: ApiKeyView };
  [Subjects.keysApiKeyUpdate]: { request: ApiKeyUpdateRequest; response: ApiKeyView };
  [Subjects.keysApiKeyDelete]: { request: ApiKeyRef; response: ApiKeyDeleted };
  [Subjects.keysApiKeyRotate]: { request: ApiKeyRotateRequest; response: ApiKeyRotated };
  [Subjects.keysApiKeySpendAdd]: { request: ApiKeySpendAddRequest; response: ApiKeySpendAdded };
  [Subjects.keysApiKeyLastUsedRecord]: {
    request: ApiKeyLastUsedRecordRequest;
    response: { recorded: number };
  };
}

export interface KeysEventContracts {
  [Subjects.keysApiKeyChanged]: ApiKeyChangedEvent;
}
