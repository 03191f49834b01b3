import { Injectable } from '@nestjs/common';
import { generateApiKey, hashApiKey, maskApiKey } from '@torouter/api-key-format';
import {
  Subjects,
  type ApiKeyCreated,
  type ApiKeyCreateRequest,
  type ApiKeyPolicy,
} from '@torouter/contracts';
import { EventBus } from '@torouter/messaging';
import { ApiKeysRepository } from './api-keys.repository';

@Injectable()
export class ApiKeysService {
  constructor(
    private readonly keys: ApiKeysRepository,
    private readonly events: EventBus,
  ) {}

  async createApiKey(req: ApiKeyCreateRequest): Promise<ApiKeyCreated> {
    const key = generateApiKey();
    const keyHash = hashApiKey(key);
    const saved = await this.keys.insert({
      accountId: req.accountId,
      name: req.name,
      keyHash,
      maskedKey: maskApiKey(key),
      expiresAt: null,
    });
    // A router may have cached "unknown" for this hash (negative cache); tell it.
    this.events.publish(Subjects.keysApiKeyChanged, { keyId: saved.id, keyHash, change: 'created' });
    return {
      id: saved.id,
      key,
      maskedKey: saved.maskedKey,
      name: saved.name,
      createdAt: saved.createdAt.toISOString(),
    };
  }

  async lookupApiKey(keyHash: string): Promise<ApiKeyPolicy> {
    const k = await this.keys.findLiveByHash(keyHash);
    if (!k) return { found: false };
    return {
      found: true,
      id: k.id,
      accountId: k.accountId,
      name: k.name,
      status: k.status,
      expiresAt: k.expiresAt ? k.expiresAt.toISOString() : null,
    };
  }
}
