import { Module } from '@nestjs/common';
import { AccessService } from './access.service';
import { KeyLastUsedRecorder } from './key-last-used.recorder';
import { KeyPolicyCache } from './key-policy.cache';

/** Who is calling the data plane: credentials, key and account state, from an event-invalidated cache. */
@Module({
  providers: [AccessService, KeyLastUsedRecorder, KeyPolicyCache],
  exports: [AccessService, KeyLastUsedRecorder, KeyPolicyCache],
})
export class AccessModule {}
