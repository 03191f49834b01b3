import { MessagePattern, Payload } from '@nestjs/microservices';
import {
  AccountDefaultPlanRequest,
  PlanCreateRequest,
  PlanGetRequest,
  PlanListRequest,
  PlanUpdateRequest,
  Subjects,
  type PlanView,
} from '@torouter/contracts';
import { ZodPayloadPipe } from '@torouter/messaging';
import { NatsController } from '@torouter/service-runtime';
import { BillingAccountsRepository } from '../accounts/billing-accounts.repository';
import { PlansService } from './plans.service';

@NatsController()
export class PlansNatsController {
  constructor(
    private readonly plans: PlansService,
    private readonly accounts: BillingAccountsRepository,
  ) {}

  @MessagePattern(Subjects.billingPlanGet)
  getPlan(@Payload(new ZodPayloadPipe(PlanGetRequest)) req: PlanGetRequest): Promise<PlanView | null> {
    return this.plans.getPlan(req.planId);
  }

  @MessagePattern(Subjects.billingAccountDefaultPlanGet)
  async getAccountDefaultPlan(
    @Payload(new ZodPayloadPipe(AccountDefaultPlanRequest)) req: AccountDefaultPlanRequest,
  ): Promise<PlanView> {
    const account = await this.accounts.ensure(req.accountId);
    return (await this.plans.getPlan(account.defaultPlanId))!;
  }

  @MessagePattern(Subjects.billingPlanList)
  listPlans(
    @Payload(new ZodPayloadPipe(PlanListRequest)) req: { includeArchived: boolean },
  ): Promise<PlanView[]> {
    return this.plans.listPlans(req.includeArchived);
  }

  @MessagePattern(Subjects.billingPlanCreate)
  createPlan(@Payload(new ZodPayloadPipe(PlanCreateRequest)) req: PlanCreateRequest): Promise<PlanView> {
    return this.plans.createPlan(req);
  }

  @MessagePattern(Subjects.billingPlanUpdate)
  updatePlan(@Payload(new ZodPayloadPipe(PlanUpdateRequest)) req: PlanUpdateRequest): Promise<PlanView> {
    return this.plans.updatePlan(req.planId, req.patch);
  }
}
