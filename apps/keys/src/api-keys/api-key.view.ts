import type { ApiKeyPolicy, ApiKeyView } from '@torouter/contracts';
import { microToUsd } from '@torouter/money';
import type { ApiKeyEntity } from './api-key.entity';
import type { KeySettings } from './key-settings';

const iso = (d: Date | null): string | null => (d ? d.toISOString() : null);

export function settingsOf(k: ApiKeyEntity): KeySettings {
  return {
    planId: k.planId,
    quotaMicroUsd: k.quotaMicroUsd,
    expiresAt: k.expiresAt,
    rateLimits: { per5h: k.per5h, per1d: k.per1d, per7d: k.per7d, rpm: k.rpm, tpm: k.tpm },
    ipWhitelist: k.ipWhitelist,
    ipBlacklist: k.ipBlacklist,
    modelWhitelist: k.modelWhitelist,
  };
}

/** A key as its owner sees it: never the secret nor its hash. */
export function toApiKeyView(k: ApiKeyEntity, now: Date = new Date()): ApiKeyView {
  return {
    id: k.id,
    name: k.name,
    maskedKey: k.maskedKey,
    status: k.status,
    expired: k.expiresAt !== null && k.expiresAt.getTime() <= now.getTime(),
    planId: k.planId,
    quotaUsd: microToUsd(k.quotaMicroUsd),
    spentUsd: microToUsd(k.spentMicroUsd),
    remainingQuotaUsd:
      k.quotaMicroUsd === 0 ? null : microToUsd(Math.max(0, k.quotaMicroUsd - k.spentMicroUsd)),
    expiresAt: iso(k.expiresAt),
    deleteAt: iso(k.deleteAt),
    rateLimits: settingsOf(k).rateLimits,
    ipWhitelist: k.ipWhitelist,
    ipBlacklist: k.ipBlacklist,
    modelWhitelist: k.modelWhitelist,
    lastUsedAt: iso(k.lastUsedAt),
    lastUsedIp: k.lastUsedIp,
    createdAt: k.createdAt.toISOString(),
    updatedAt: k.updatedAt.toISOString(),
  };
}

/** What the router caches and enforces for a key. */
export function toApiKeyPolicy(k: ApiKeyEntity): ApiKeyPolicy {
  return {
    found: true,
    id: k.id,
    accountId: k.accountId,
    name: k.name,
    status: k.status,
    expiresAt: iso(k.expiresAt),
    deleteAt: iso(k.deleteAt),
    planId: k.planId,
    quotaMicroUsd: k.quotaMicroUsd,
    quotaUsd: microToUsd(k.quotaMicroUsd),
    limitsId: k.limitsId,
    rateLimits: settingsOf(k).rateLimits,
    ipWhitelist: k.ipWhitelist,
    ipBlacklist: k.ipBlacklist,
    modelWhitelist: k.modelWhitelist,
    version: k.updatedAt.toISOString(),
  };
}
