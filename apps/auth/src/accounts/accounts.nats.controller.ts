import { MessagePattern, Payload } from '@nestjs/microservices';
import {
  AccountCreateRequest,
  AccountFindByEmailRequest,
  AccountStatusRequest,
  ProfileGetRequest,
  ProfileUpdateRequest,
  Subjects,
  type AccountProfile,
  type AccountStatus,
  type AccountView,
} from '@torouter/contracts';
import { ZodPayloadPipe } from '@torouter/messaging';
import { NatsController } from '@torouter/service-runtime';
import type { z } from 'zod';
import { AccountsService } from './accounts.service';

@NatsController()
export class AccountsNatsController {
  constructor(private readonly accounts: AccountsService) {}

  @MessagePattern(Subjects.authAccountCreate)
  createAccount(
    @Payload(new ZodPayloadPipe(AccountCreateRequest)) req: z.infer<typeof AccountCreateRequest>,
  ): Promise<AccountView> {
    return this.accounts.createAccount(req);
  }

  @MessagePattern(Subjects.authAccountFindByEmail)
  findAccountByEmail(
    @Payload(new ZodPayloadPipe(AccountFindByEmailRequest)) req: AccountFindByEmailRequest,
  ): Promise<AccountView | null> {
    return this.accounts.findByEmail(req.email);
  }

  @MessagePattern(Subjects.authAccountStatusGet)
  getAccountStatus(
    @Payload(new ZodPayloadPipe(AccountStatusRequest)) req: AccountStatusRequest,
  ): Promise<AccountStatus> {
    return this.accounts.getStatus(req.accountId);
  }

  @MessagePattern(Subjects.authProfileGet)
  getProfile(
    @Payload(new ZodPayloadPipe(ProfileGetRequest)) req: ProfileGetRequest,
  ): Promise<AccountProfile> {
    return this.accounts.getProfile(req.accountId);
  }

  @MessagePattern(Subjects.authProfileUpdate)
  updateProfile(
    @Payload(new ZodPayloadPipe(ProfileUpdateRequest)) req: ProfileUpdateRequest,
  ): Promise<AccountProfile> {
    return this.accounts.updateProfile(req.accountId, req.username);
  }
}
