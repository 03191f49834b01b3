import { MessagePattern, Payload } from '@nestjs/microservices';
import {
  AccountAccessRequest,
  SubscriptionCancelRequest,
  SubscriptionCreateRequest,
  SubscriptionListRequest,
  Subjects,
  type AccountAccessView,
  type SubscriptionView,
} from '@torouter/contracts';
import { ZodPayloadPipe } from '@torouter/messaging';
import { NatsController } from '@torouter/service-runtime';
import { SubscriptionsService } from './subscriptions.service';

@NatsController()
export class SubscriptionsNatsController {
  constructor(private readonly subscriptions: SubscriptionsService) {}

  @MessagePattern(Subjects.billingSubscriptionCreate)
  createSubscription(
    @Payload(new ZodPayloadPipe(SubscriptionCreateRequest)) req: SubscriptionCreateRequest,
  ): Promise<SubscriptionView> {
    return this.subscriptions.createSubscription(req.accountId, req.planId);
  }

  @MessagePattern(Subjects.billingSubscriptionGrant)
  grantSubscription(
    @Payload(new ZodPayloadPipe(SubscriptionCreateRequest)) req: SubscriptionCreateRequest,
  ): Promise<SubscriptionView> {
    return this.subscriptions.grantSubscription(req.accountId, req.planId);
  }

  @MessagePattern(Subjects.billingSubscriptionCancel)
  cancelSubscription(
    @Payload(new ZodPayloadPipe(SubscriptionCancelRequest)) req: SubscriptionCancelRequest,
  ): Promise<SubscriptionView> {
    return this.subscriptions.cancelSubscription(req.accountId, req.subscriptionId);
  }

  @MessagePattern(Subjects.billingSubscriptionList)
  listSubscriptions(
    @Payload(new ZodPayloadPipe(SubscriptionListRequest)) req: SubscriptionListRequest,
  ): Promise<SubscriptionView[]> {
    return this.subscriptions.listSubscriptions(req.accountId);
  }

  @MessagePattern(Subjects.billingAccountAccessGet)
  getAccountAccess(
    @Payload(new ZodPayloadPipe(AccountAccessRequest)) req: AccountAccessRequest,
  ): Promise<AccountAccessView> {
    return this.subscriptions.accountAccess(req.accountId);
  }
}
