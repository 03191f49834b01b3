import { MessagePattern, Payload } from '@nestjs/microservices';
import {
  Subjects,
  TotpDisableRequest,
  TotpEmailCodeRequest,
  TotpEnableRequest,
  TotpSetupRequest,
  type Accepted,
  type TotpDisabled,
  type TotpEnabled,
  type TotpSetupStarted,
} from '@torouter/contracts';
import { ZodPayloadPipe } from '@torouter/messaging';
import { NatsController } from '@torouter/service-runtime';
import type { z } from 'zod';
import { TwoFactorService } from './two-factor.service';

@NatsController()
export class TwoFactorNatsController {
  constructor(private readonly twoFactor: TwoFactorService) {}

  @MessagePattern(Subjects.authTotpEmailCodeSend)
  sendTotpEmailCode(
    @Payload(new ZodPayloadPipe(TotpEmailCodeRequest)) req: z.output<typeof TotpEmailCodeRequest>,
  ): Promise<Accepted> {
    return this.twoFactor.sendEmailCode(req);
  }

  @MessagePattern(Subjects.authTotpSetup)
  setupTotp(
    @Payload(new ZodPayloadPipe(TotpSetupRequest)) req: z.output<typeof TotpSetupRequest>,
  ): Promise<TotpSetupStarted> {
    return this.twoFactor.setup(req);
  }

  @MessagePattern(Subjects.authTotpEnable)
  enableTotp(
    @Payload(new ZodPayloadPipe(TotpEnableRequest)) req: z.output<typeof TotpEnableRequest>,
  ): Promise<TotpEnabled> {
    return this.twoFactor.enable(req);
  }

  @MessagePattern(Subjects.authTotpDisable)
  disableTotp(
    @Payload(new ZodPayloadPipe(TotpDisableRequest)) req: z.output<typeof TotpDisableRequest>,
  ): Promise<TotpDisabled> {
    return this.twoFactor.disable(req);
  }
}
