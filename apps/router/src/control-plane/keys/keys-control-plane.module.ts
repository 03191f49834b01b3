import { Module } from '@nestjs/common';
import { AccessModule } from '../../access/access.module';
import { LimitsModule } from '../../limits/limits.module';
import { KeysHttpController } from './keys.http.controller';
import { OwnKeyHttpController } from './own-key.http.controller';

/** /api/v1/keys (the account's keys, session auth) and /api/v1/key (a key checks itself). */
@Module({
  imports: [AccessModule, LimitsModule],
  controllers: [KeysHttpController, OwnKeyHttpController],
})
export class KeysControlPlaneModule {}
