import { Module } from '@nestjs/common';
import { UsageEventsPublisher } from './usage-events.publisher';

/** The router's side of the usage stream: one durable event per admitted request. */
@Module({
  providers: [UsageEventsPublisher],
  exports: [UsageEventsPublisher],
})
export class UsageEventsModule {}
