import { Inject, type Type } from '@nestjs/common';
import { MessagePattern } from '@nestjs/microservices';
import type { HealthCheckResponse, Subject } from '@torouter/contracts';
import { runProbes, type DependencyProbe } from './dependency-probes';
import { NatsController } from './nats-controller.decorator';
import { DEPENDENCY_PROBES, SERVICE_NAME } from './tokens';

/** Builds the `<service>.health.check.v1` handler the router's `/health` asks. */
export function createHealthNatsController(subject: Subject): Type<unknown> {
  @NatsController()
  class HealthNatsController {
    constructor(
      @Inject(SERVICE_NAME) private readonly service: string,
      @Inject(DEPENDENCY_PROBES) private readonly probes: DependencyProbe[],
    ) {}

    @MessagePattern(subject)
    async checkHealth(): Promise<HealthCheckResponse> {
      const dependencies = await runProbes(this.probes);
      return {
        service: this.service,
        status: dependencies.every((d) => d.up) ? 'ok' : 'degraded',
        dependencies,
      };
    }
  }
  return HealthNatsController;
}
