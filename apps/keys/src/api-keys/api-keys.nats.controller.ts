import { MessagePattern, Payload } from '@nestjs/microservices';
import {
  ApiKeyCreateRequest,
  ApiKeyLookupRequest,
  Subjects,
  type ApiKeyCreated,
  type ApiKeyPolicy,
} from '@torouter/contracts';
import { ZodPayloadPipe } from '@torouter/messaging';
import { NatsController } from '@torouter/service-runtime';
import { ApiKeysService } from './api-keys.service';

@NatsController()
export class ApiKeysNatsController {
  constructor(private readonly apiKeys: ApiKeysService) {}

  @MessagePattern(Subjects.keysApiKeyCreate)
  createApiKey(
    @Payload(new ZodPayloadPipe(ApiKeyCreateRequest)) req: ApiKeyCreateRequest,
  ): Promise<ApiKeyCreated> {
    return this.apiKeys.createApiKey(req);
  }

  @MessagePattern(Subjects.keysApiKeyLookup)
  lookupApiKey(
    @Payload(new ZodPayloadPipe(ApiKeyLookupRequest)) req: ApiKeyLookupRequest,
  ): Promise<ApiKeyPolicy> {
    return this.apiKeys.lookupApiKey(req.keyHash);
  }
}
