import {
  ApiKeyCreateBody,
  ApiKeyUpdateBody,
  DefaultKeyLimits,
  type RateLimits,
  type RateLimitsInput,
} from '@torouter/contracts';
import { usdToMicro } from '@torouter/money';
import type { z } from 'zod';

const dayMs = 24 * 3600 * 1000;

/** Everything a key's owner can set, normalised: the form it is stored and enforced in. */
export interface KeySettings {
  planId: string | null;
  /** 0 = no key-specific spend cap. */
  quotaMicroUsd: number;
  /** null = never expires. */
  expiresAt: Date | null;
  rateLimits: RateLimits;
  ipWhitelist: string[];
  ipBlacklist: string[];
  modelWhitelist: string[];
}

/** Parsed (validated, normalised) bodies: the outputs of the contract schemas. */
export type CreateFields = Omit<z.output<typeof ApiKeyCreateBody>, 'name'>;
export type PatchFields = z.output<typeof ApiKeyUpdateBody>;

const noLimits: DefaultKeyLimits = DefaultKeyLimits.parse({});

function expiryFromDays(days: number, now: Date): Date | null {
  return days === 0 ? null : new Date(now.getTime() + days * dayMs);
}

function mergeRateLimits(base: RateLimits, input: RateLimitsInput | undefined): RateLimits {
  return {
    per5h: input?.per5h ?? base.per5h,
    per1d: input?.per1d ?? base.per1d,
    per7d: input?.per7d ?? base.per7d,
    rpm: input?.rpm ?? base.rpm,
    tpm: input?.tpm ?? base.tpm,
  };
}

/**
 * A new key's settings: each field the caller sent wins; each absent one takes the plan's default key
 * limit (`defaults`; null when no plan was consulted, which means 0 = no cap / off / never). Lists have no
 * plan default: absent = empty (anyone, the plan's catalog).
 */
export function settingsForNewKey(
  input: CreateFields,
  plan: { id: string | null; defaults: DefaultKeyLimits | null },
  now: Date,
): KeySettings {
  const defaults = plan.defaults ? DefaultKeyLimits.parse(plan.defaults) : noLimits;
  const base: RateLimits = {
    per5h: defaults.per5h,
    per1d: defaults.per1d,
    per7d: defaults.per7d,
    rpm: defaults.rpm,
    tpm: defaults.tpm,
  };
  return {
    planId: plan.id,
    quotaMicroUsd: usdToMicro(input.quotaUsd ?? defaults.quotaUsd),
    expiresAt: expiryFromDays(input.expiresInDays ?? defaults.expiresInDays, now),
    rateLimits: mergeRateLimits(base, input.rateLimits),
    ipWhitelist: input.ipWhitelist ?? [],
    ipBlacklist: input.ipBlacklist ?? [],
    modelWhitelist: input.modelWhitelist ?? [],
  };
}

/**
 * An edit: only the fields sent change. `rateLimits` merges field by field; lists are replaced (an empty
 * list or "" clears one); `expiresInDays` counts from now (0 = never), `expiresAt` sets an exact time
 * (null = never; a past time expires the key at once).
 */
export function applyPatch(current: KeySettings, patch: PatchFields, now: Date): KeySettings {
  let expiresAt = current.expiresAt;
  if (patch.expiresInDays !== undefined) expiresAt = expiryFromDays(patch.expiresInDays, now);
  if (patch.expiresAt !== undefined) expiresAt = patch.expiresAt === null ? null : new Date(patch.expiresAt);
  return {
    planId: patch.planId ?? current.planId,
    quotaMicroUsd: patch.quotaUsd !== undefined ? usdToMicro(patch.quotaUsd) : current.quotaMicroUsd,
    expiresAt,
    rateLimits: mergeRateLimits(current.rateLimits, patch.rateLimits),
    ipWhitelist: patch.ipWhitelist ?? current.ipWhitelist,
    ipBlacklist: patch.ipBlacklist ?? current.ipBlacklist,
    modelWhitelist: patch.modelWhitelist ?? current.modelWhitelist,
  };
}
