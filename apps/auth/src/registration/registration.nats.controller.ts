import { MessagePattern, Payload } from '@nestjs/microservices';
import {
  EmailActionRequest,
  SignUpRequest,
  Subjects,
  VerifyEmailBody,
  type Accepted,
  type EmailVerified,
  type SignedUpAccount,
} from '@torouter/contracts';
import { ZodPayloadPipe } from '@torouter/messaging';
import { NatsController } from '@torouter/service-runtime';
import type { z } from 'zod';
import { RegistrationService } from './registration.service';

@NatsController()
export class RegistrationNatsController {
  constructor(private readonly registration: RegistrationService) {}

  @MessagePattern(Subjects.authAccountSignUp)
  signUp(
    @Payload(new ZodPayloadPipe(SignUpRequest)) req: z.output<typeof SignUpRequest>,
  ): Promise<SignedUpAccount> {
    return this.registration.signUp(req);
  }

  @MessagePattern(Subjects.authEmailVerificationConfirm)
  confirmEmailVerification(
    @Payload(new ZodPayloadPipe(VerifyEmailBody)) req: VerifyEmailBody,
  ): Promise<EmailVerified> {
    return this.registration.confirmEmail(req.token);
  }

  @MessagePattern(Subjects.authEmailVerificationResend)
  resendEmailVerification(
    @Payload(new ZodPayloadPipe(EmailActionRequest)) req: z.output<typeof EmailActionRequest>,
  ): Promise<Accepted> {
    return this.registration.resendVerification(req);
  }
}
