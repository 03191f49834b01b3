import { Module } from '@nestjs/common';
import { UsageOutbox } from './usage-outbox';

/** The router's side of the usage stream: one durable event per admitted request, via the outbox. */
@Module({
  providers: [UsageOutbox],
  exports: [UsageOutbox],
})
export class UsageEventsModule {}
