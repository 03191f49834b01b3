import { MessagePattern, Payload } from '@nestjs/microservices';
import {
  EmailActionRequest,
  PasswordChangeRequest,
  ResetPasswordBody,
  Subjects,
  type Accepted,
  type PasswordChanged,
  type PasswordResetDone,
} from '@torouter/contracts';
import { ZodPayloadPipe } from '@torouter/messaging';
import { NatsController } from '@torouter/service-runtime';
import type { z } from 'zod';
import { PasswordsService } from './passwords.service';

@NatsController()
export class PasswordsNatsController {
  constructor(private readonly passwords: PasswordsService) {}

  @MessagePattern(Subjects.authPasswordResetRequest)
  requestPasswordReset(
    @Payload(new ZodPayloadPipe(EmailActionRequest)) req: z.output<typeof EmailActionRequest>,
  ): Promise<Accepted> {
    return this.passwords.requestReset(req);
  }

  @MessagePattern(Subjects.authPasswordResetConfirm)
  confirmPasswordReset(
    @Payload(new ZodPayloadPipe(ResetPasswordBody)) req: ResetPasswordBody,
  ): Promise<PasswordResetDone> {
    return this.passwords.confirmReset(req);
  }

  @MessagePattern(Subjects.authPasswordChange)
  changePassword(
    @Payload(new ZodPayloadPipe(PasswordChangeRequest)) req: z.output<typeof PasswordChangeRequest>,
  ): Promise<PasswordChanged> {
    return this.passwords.changePassword(req);
  }
}
