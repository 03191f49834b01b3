import { Module } from '@nestjs/common';

/** The billing service's features; it answers health checks through the runtime until they land. */
@Module({})
export class BillingModule {}
