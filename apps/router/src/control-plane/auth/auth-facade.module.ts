import { Module } from '@nestjs/common';
import { AccessModule } from '../../access/access.module';
import { AccountPagesHttpController } from './account-pages.http.controller';
import { AdminAccountsHttpController } from './admin-accounts.http.controller';
import { AuthHttpController } from './auth.http.controller';

/** The public face of the auth service: /api/v1/auth/*, /api/v1/admin/accounts*, and the email-link pages. */
@Module({
  imports: [AccessModule],
  controllers: [AccountPagesHttpController, AdminAccountsHttpController, AuthHttpController],
})
export class AuthFacadeModule {}
