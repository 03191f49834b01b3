import { MessagePattern, Payload } from '@nestjs/microservices';
import {
  AdminCreditRequest,
  BalanceGetRequest,
  LedgerListRequest,
  Subjects,
  type AdminCreditResult,
  type BalanceView,
  type LedgerPage,
} from '@torouter/contracts';
import { ZodPayloadPipe } from '@torouter/messaging';
import { NatsController } from '@torouter/service-runtime';
import type { z } from 'zod';
import { LedgerService } from './ledger.service';

@NatsController()
export class LedgerNatsController {
  constructor(private readonly ledger: LedgerService) {}

  @MessagePattern(Subjects.billingBalanceGet)
  getBalance(@Payload(new ZodPayloadPipe(BalanceGetRequest)) req: BalanceGetRequest): Promise<BalanceView> {
    return this.ledger.getBalance(req.accountId);
  }

  @MessagePattern(Subjects.billingLedgerList)
  listLedger(
    @Payload(new ZodPayloadPipe(LedgerListRequest)) req: z.infer<typeof LedgerListRequest>,
  ): Promise<LedgerPage> {
    return this.ledger.listLedger(req.accountId, req.cursor, req.limit);
  }

  @MessagePattern(Subjects.billingCreditCreate)
  createAdminCredit(
    @Payload(new ZodPayloadPipe(AdminCreditRequest)) req: z.infer<typeof AdminCreditRequest>,
  ): Promise<AdminCreditResult> {
    return this.ledger.createAdminCredit(req);
  }
}
