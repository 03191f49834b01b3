import { Module } from '@nestjs/common';
import { RouterHealthController } from './health.http.controller';

@Module({ controllers: [RouterHealthController] })
export class HealthModule {}
