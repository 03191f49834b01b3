import { MessagePattern, Payload } from '@nestjs/microservices';
import { SessionCreateRequest, Subjects, type SessionIssued } from '@torouter/contracts';
import { ZodPayloadPipe } from '@torouter/messaging';
import { NatsController } from '@torouter/service-runtime';
import type { z } from 'zod';
import { SessionsService } from './sessions.service';

@NatsController()
export class SessionsNatsController {
  constructor(private readonly sessions: SessionsService) {}

  @MessagePattern(Subjects.authSessionCreate)
  createSession(
    @Payload(new ZodPayloadPipe(SessionCreateRequest)) req: z.output<typeof SessionCreateRequest>,
  ): Promise<SessionIssued> {
    return this.sessions.login(req);
  }
}
