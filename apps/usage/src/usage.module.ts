import { Module } from '@nestjs/common';

/** The usage service's features; it answers health checks through the runtime until they land. */
@Module({})
export class UsageModule {}
