import { MessagePattern, Payload } from '@nestjs/microservices';
import {
  ApiKeyCreateRequest,
  ApiKeyLastUsedRecordRequest,
  ApiKeyListRequest,
  ApiKeyLookupRequest,
  ApiKeyRef,
  ApiKeyRotateRequest,
  ApiKeySpendAddRequest,
  ApiKeyUpdateRequest,
  Subjects,
  type ApiKeyCreated,
  type ApiKeyDeleted,
  type ApiKeyList,
  type ApiKeyPolicy,
  type ApiKeyRotated,
  type ApiKeySpendAdded,
  type ApiKeyView,
} from '@torouter/contracts';
import { ZodPayloadPipe } from '@torouter/messaging';
import { NatsController } from '@torouter/service-runtime';
import type { z } from 'zod';
import { ApiKeysService } from './api-keys.service';

@NatsController()
export class ApiKeysNatsController {
  constructor(private readonly apiKeys: ApiKeysService) {}

  @MessagePattern(Subjects.keysApiKeyCreate)
  createApiKey(
    @Payload(new ZodPayloadPipe(ApiKeyCreateRequest)) req: z.output<typeof ApiKeyCreateRequest>,
  ): Promise<ApiKeyCreated> {
    return this.apiKeys.createApiKey(req);
  }

  @MessagePattern(Subjects.keysApiKeyLookup)
  lookupApiKey(
    @Payload(new ZodPayloadPipe(ApiKeyLookupRequest)) req: ApiKeyLookupRequest,
  ): Promise<ApiKeyPolicy> {
    return this.apiKeys.lookupApiKey(req.keyHash);
  }

  @MessagePattern(Subjects.keysApiKeyList)
  listApiKeys(@Payload(new ZodPayloadPipe(ApiKeyListRequest)) req: ApiKeyListRequest): Promise<ApiKeyList> {
    return this.apiKeys.listApiKeys(req.accountId);
  }

  @MessagePattern(Subjects.keysApiKeyGet)
  getApiKey(@Payload(new ZodPayloadPipe(ApiKeyRef)) req: ApiKeyRef): Promise<ApiKeyView> {
    return this.apiKeys.getApiKey(req.accountId, req.keyId);
  }

  @MessagePattern(Subjects.keysApiKeyUpdate)
  updateApiKey(
    @Payload(new ZodPayloadPipe(ApiKeyUpdateRequest)) req: z.output<typeof ApiKeyUpdateRequest>,
  ): Promise<ApiKeyView> {
    return this.apiKeys.updateApiKey(req.accountId, req.keyId, req.patch);
  }

  @MessagePattern(Subjects.keysApiKeyDelete)
  deleteApiKey(@Payload(new ZodPayloadPipe(ApiKeyRef)) req: ApiKeyRef): Promise<ApiKeyDeleted> {
    return this.apiKeys.deleteApiKey(req.accountId, req.keyId);
  }

  @MessagePattern(Subjects.keysApiKeyRotate)
  rotateApiKey(
    @Payload(new ZodPayloadPipe(ApiKeyRotateRequest)) req: z.output<typeof ApiKeyRotateRequest>,
  ): Promise<ApiKeyRotated> {
    return this.apiKeys.rotateApiKey(req.accountId, req.keyId, req.graceSeconds);
  }

  @MessagePattern(Subjects.keysApiKeySpendAdd)
  addApiKeySpend(
    @Payload(new ZodPayloadPipe(ApiKeySpendAddRequest)) req: ApiKeySpendAddRequest,
  ): Promise<ApiKeySpendAdded> {
    return this.apiKeys.addSpend(req.keyId, req.requestId, req.amountMicroUsd);
  }

  @MessagePattern(Subjects.keysApiKeyLastUsedRecord)
  recordApiKeyLastUsed(
    @Payload(new ZodPayloadPipe(ApiKeyLastUsedRecordRequest)) req: ApiKeyLastUsedRecordRequest,
  ): Promise<{ recorded: number }> {
    return this.apiKeys.recordLastUsed(req);
  }
}
