import { Module } from '@nestjs/common';
import { AccessService } from './access.service';
import { KeyPolicyCache } from './key-policy.cache';

/** Who is calling the data plane: credentials, key and account state, from an event-invalidated cache. */
@Module({
  providers: [AccessService, KeyPolicyCache],
  exports: [AccessService, KeyPolicyCache],
})
export class AccessModule {}
