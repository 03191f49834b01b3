import { MessagePattern, Payload } from '@nestjs/microservices';
import {
  AccountGetRequest,
  AccountListQuery,
  AccountUpdateRequest,
  Subjects,
  type AccountPage,
  type AccountView,
} from '@torouter/contracts';
import { ZodPayloadPipe } from '@torouter/messaging';
import { NatsController } from '@torouter/service-runtime';
import type { z } from 'zod';
import { AccountsService } from '../accounts/accounts.service';

/** Operator access to every account. Only the router's admin-guarded routes send these. */
@NatsController()
export class AdminAccountsNatsController {
  constructor(private readonly accounts: AccountsService) {}

  @MessagePattern(Subjects.authAccountList)
  listAccounts(
    @Payload(new ZodPayloadPipe(AccountListQuery)) req: z.output<typeof AccountListQuery>,
  ): Promise<AccountPage> {
    return this.accounts.listAccounts(req);
  }

  @MessagePattern(Subjects.authAccountGet)
  getAccount(@Payload(new ZodPayloadPipe(AccountGetRequest)) req: AccountGetRequest): Promise<AccountView> {
    return this.accounts.getAccount(req.accountId);
  }

  @MessagePattern(Subjects.authAccountUpdate)
  updateAccount(
    @Payload(new ZodPayloadPipe(AccountUpdateRequest)) req: AccountUpdateRequest,
  ): Promise<AccountView> {
    return this.accounts.updateAccount(req);
  }
}
