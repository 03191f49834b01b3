import { Injectable, Logger } from '@nestjs/common';
import { generateApiKey, hashApiKey, maskApiKey } from '@torouter/api-key-format';
import {
  ApiKeyCreateRequest,
  DomainError,
  ErrorCodes,
  Subjects,
  type ApiKeyChangedEvent,
  type ApiKeyCreated,
  type ApiKeyDeleted,
  type ApiKeyLastUsedRecordRequest,
  type ApiKeyList,
  type ApiKeyPolicy,
  type ApiKeyRotated,
  type ApiKeySpendAdded,
  type ApiKeyView,
  type PlanView,
} from '@torouter/contracts';
import { EventBus, RpcClient } from '@torouter/messaging';
import type { z } from 'zod';
import { settingsOf, toApiKeyPolicy, toApiKeyView } from './api-key.view';
import { ApiKeysRepository, type ApiKeyWithHash } from './api-keys.repository';
import { applyPatch, settingsForNewKey, type PatchFields } from './key-settings';

/** Live keys one account may hold (a runaway script must not fill the table). */
export const MAX_KEYS_PER_ACCOUNT = 500;

type CreateInput = z.output<typeof ApiKeyCreateRequest>;

/**
 * API keys and their policy. Every change is announced on `keys.api-key.changed.v1` (flushed to the
 * NATS server before the caller gets its answer), so every router replica evicts its cached policy and
 * obeys the change on its next request.
 */
@Injectable()
export class ApiKeysService {
  private readonly logger = new Logger(ApiKeysService.name);

  constructor(
    private readonly keys: ApiKeysRepository,
    private readonly events: EventBus,
    private readonly rpc: RpcClient,
  ) {}

  async createApiKey(req: CreateInput): Promise<ApiKeyCreated> {
    await this.assertAccountMayCreateKeys(req.accountId);
    if ((await this.keys.countLiveForAccount(req.accountId)) >= MAX_KEYS_PER_ACCOUNT) {
      throw new DomainError(
        ErrorCodes.CONFLICT,
        `an account may hold at most ${MAX_KEYS_PER_ACCOUNT} keys; delete unused ones first`,
      );
    }
    const { accountId, inheritPlanDefaults, name, ...fields } = req;
    const plan = inheritPlanDefaults
      ? await this.planFor(accountId, fields.planId)
      : { id: fields.planId ?? null, defaults: null };
    const settings = settingsForNewKey(fields, plan, new Date());
    const key = generateApiKey();
    const keyHash = hashApiKey(key);
    const saved = await this.keys.insert({
      accountId: req.accountId,
      name,
      keyHash,
      maskedKey: maskApiKey(key),
      ...settings,
    });
    // A router may have cached "unknown" for this hash (negative cache); tell it.
    await this.announce({ keyId: saved.id, keyHash, change: 'created' });
    return { ...toApiKeyView(saved), key };
  }

  async listApiKeys(accountId: string): Promise<ApiKeyList> {
    const now = new Date();
    return { data: (await this.keys.listForAccount(accountId)).map((k) => toApiKeyView(k, now)) };
  }

  async getApiKey(accountId: string, keyId: string): Promise<ApiKeyView> {
    return toApiKeyView(await this.mustFind(accountId, keyId));
  }

  async updateApiKey(accountId: string, keyId: string, patch: PatchFields): Promise<ApiKeyView> {
    const current = await this.mustFind(accountId, keyId);
    if (patch.planId !== undefined && patch.planId !== current.planId)
      await this.planFor(accountId, patch.planId);
    const updated = await this.keys.update(current.id, {
      ...(patch.name !== undefined ? { name: patch.name } : {}),
      ...(patch.status !== undefined ? { status: patch.status } : {}),
      settings: applyPatch(settingsOf(current), patch, new Date()),
    });
    await this.announce({ keyId: current.id, keyHash: current.keyHash, change: 'updated' });
    return toApiKeyView(updated);
  }

  async deleteApiKey(accountId: string, keyId: string): Promise<ApiKeyDeleted> {
    const current = await this.mustFind(accountId, keyId);
    await this.keys.softDelete(current.id);
    await this.announce({ keyId: current.id, keyHash: current.keyHash, change: 'deleted' });
    return { id: current.id };
  }

  /**
   * A new key (new secret and id) with the same settings, window counters (`limitsId`) and running spend,
   * so a rotation never resets a cap. The old key keeps working for `graceSeconds`, then is deleted.
   */
  async rotateApiKey(accountId: string, keyId: string, graceSeconds: number): Promise<ApiKeyRotated> {
    const old = await this.mustFind(accountId, keyId);
    const key = generateApiKey();
    const keyHash = hashApiKey(key);
    let deleteAt: Date | null = null;
    if (graceSeconds > 0) {
      deleteAt = new Date(Date.now() + graceSeconds * 1000);
      // Rotating a key already in its grace period never extends it.
      if (old.deleteAt && old.deleteAt < deleteAt) deleteAt = old.deleteAt;
    }
    const { created, previous } = await this.keys.rotate(
      old.id,
      {
        accountId,
        name: old.name,
        keyHash,
        maskedKey: maskApiKey(key),
        ...settingsOf(old),
        limitsId: old.limitsId,
        rotatedFromId: old.id,
        spentMicroUsd: old.spentMicroUsd,
      },
      deleteAt,
    );
    await this.announce({ keyId: created.id, keyHash, change: 'created' });
    await this.announce({
      keyId: old.id,
      keyHash: old.keyHash,
      change: deleteAt === null ? 'deleted' : 'updated',
    });
    return { key: { ...toApiKeyView(created), key }, previous: toApiKeyView(previous) };
  }

  async lookupApiKey(keyHash: string): Promise<ApiKeyPolicy> {
    const k = await this.keys.findLiveByHash(keyHash);
    return k ? toApiKeyPolicy(k) : { found: false };
  }

  async addSpend(keyId: string, requestId: string, amountMicroUsd: number): Promise<ApiKeySpendAdded> {
    const res = await this.keys.addSpend(keyId, requestId, amountMicroUsd);
    if (!res) throw new DomainError(ErrorCodes.NOT_FOUND, `no API key ${keyId}`);
    return { keyId, ...res };
  }

  async recordLastUsed(req: ApiKeyLastUsedRecordRequest): Promise<{ recorded: number }> {
    // One entry per key: the latest wins (a batch may merge several routers' records).
    const latest = new Map<string, { keyId: string; at: string; ip: string }>();
    for (const e of req.entries) {
      const seen = latest.get(e.keyId);
      if (!seen || Date.parse(seen.at) < Date.parse(e.at)) latest.set(e.keyId, e);
    }
    return { recorded: await this.keys.recordLastUsed([...latest.values()]) };
  }

  /** Rotated keys whose grace period ended: mark them deleted and tell the routers. */
  async finaliseDueDeletions(): Promise<number> {
    const due = await this.keys.finaliseDueDeletions();
    for (const k of due) await this.announce({ keyId: k.id, keyHash: k.keyHash, change: 'deleted' });
    return due.length;
  }

  pruneSpendEntries(): Promise<number> {
    return this.keys.pruneSpendEntries();
  }

  private async mustFind(accountId: string, keyId: string): Promise<ApiKeyWithHash> {
    const k = await this.keys.findForAccount(accountId, keyId);
    // Another account's key is indistinguishable from a missing one.
    if (!k) throw new DomainError(ErrorCodes.NOT_FOUND, `no API key ${keyId}`);
    return k;
  }

  private async assertAccountMayCreateKeys(accountId: string): Promise<void> {
    const account = await this.rpc.send(Subjects.authAccountStatusGet, { accountId });
    if (!account.exists) throw new DomainError(ErrorCodes.NOT_FOUND, 'no such account');
    if (account.suspended) {
      throw new DomainError(
        ErrorCodes.ACCOUNT_SUSPENDED,
        'this account is suspended and cannot create API keys',
      );
    }
    if (!account.emailVerified) {
      throw new DomainError(
        ErrorCodes.EMAIL_NOT_VERIFIED,
        'verify your email address before creating API keys (see the link we sent you)',
      );
    }
  }

  /** The plan a key belongs to and its default key limits, from billing; never invented here. */
  private async planFor(
    accountId: string,
    planId: string | undefined,
  ): Promise<{ id: string; defaults: PlanView['defaultKeyLimits'] }> {
    let plan: PlanView | null;
    try {
      plan = planId
        ? await this.rpc.send(Subjects.billingPlanGet, { planId })
        : await this.rpc.send(Subjects.billingAccountDefaultPlanGet, { accountId });
    } catch (e) {
      if (e instanceof DomainError && e.code === ErrorCodes.SERVICE_UNAVAILABLE) {
        throw new DomainError(
          ErrorCodes.SERVICE_UNAVAILABLE,
          "the key's plan and its default limits cannot be read from billing right now; nothing was changed, try again shortly",
          e.details,
        );
      }
      throw e;
    }
    if (!plan) {
      throw new DomainError(ErrorCodes.VALIDATION_FAILED, `planId: there is no plan "${planId}"`, {
        fields: [{ field: 'planId', message: `there is no plan "${planId}"` }],
      });
    }
    return { id: plan.id, defaults: plan.defaultKeyLimits };
  }

  /**
   * Publishes a change and waits until the NATS server has it, before the caller is answered: a client
   * that sees the 2xx and calls another router replica finds the event already on its way there.
   */
  private async announce(event: ApiKeyChangedEvent): Promise<void> {
    this.events.publish(Subjects.keysApiKeyChanged, event);
    try {
      await this.events.connection.flush();
    } catch (e) {
      // The change is stored; routers still drop the stale policy within the cache's safety TTL.
      this.logger.error(`could not flush key change event: ${e instanceof Error ? e.message : String(e)}`);
    }
  }
}
