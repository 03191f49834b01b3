import { MessagePattern, Payload } from '@nestjs/microservices';
import { SpendStateLoadRequest, Subjects } from '@torouter/contracts';
import { ZodPayloadPipe } from '@torouter/messaging';
import { NatsController } from '@torouter/service-runtime';
import { SpendStateService } from './spend-state.service';

@NatsController()
export class SpendStateNatsController {
  constructor(private readonly spendState: SpendStateService) {}

  /** A router found no counters for this account/key/plan in Redis (new account, or Redis lost data). */
  @MessagePattern(Subjects.billingSpendStateLoad)
  async loadSpendState(
    @Payload(new ZodPayloadPipe(SpendStateLoadRequest)) req: SpendStateLoadRequest,
  ): Promise<{ loaded: true }> {
    await this.spendState.load(req.accountId, req.keyId, req.planId, req.at ? new Date(req.at) : undefined);
    return { loaded: true };
  }
}
