import { Module } from '@nestjs/common';
import { AccountsNatsController } from './accounts.nats.controller';
import { AccountsRepository } from './accounts.repository';
import { AccountsService } from './accounts.service';
import { PasswordHasher } from './password-hasher';

@Module({
  controllers: [AccountsNatsController],
  providers: [AccountsRepository, AccountsService, PasswordHasher],
})
export class AccountsModule {}
