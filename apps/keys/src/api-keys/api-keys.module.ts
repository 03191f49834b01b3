import { Module } from '@nestjs/common';
import { ApiKeysNatsController } from './api-keys.nats.controller';
import { ApiKeysRepository } from './api-keys.repository';
import { ApiKeysService } from './api-keys.service';

@Module({
  controllers: [ApiKeysNatsController],
  providers: [ApiKeysRepository, ApiKeysService],
})
export class ApiKeysModule {}
