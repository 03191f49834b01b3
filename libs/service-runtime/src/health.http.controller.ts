import { Controller, Get, Header, HttpCode, Inject, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { DependencyStatus } from '@torouter/contracts';
import { dependencyGauge } from '@torouter/observability';
import type { FastifyReply } from 'fastify';
import type { Gauge, Registry } from 'prom-client';
import { runProbes, type DependencyProbe } from './dependency-probes';
import { DEPENDENCY_PROBES, METRICS_REGISTRY, SERVICE_NAME } from './tokens';

/**
 * Kubernetes probes and Prometheus scraping. Liveness says only "the event loop answers" (restarting a pod
 * because Postgres is down would not help); readiness says "every connection this service needs is up".
 */
@ApiExcludeController()
@Controller('health')
export class HealthHttpController {
  private readonly gauge: Gauge<'dependency'>;

  constructor(
    @Inject(SERVICE_NAME) private readonly service: string,
    @Inject(DEPENDENCY_PROBES) private readonly probes: DependencyProbe[],
    @Inject(METRICS_REGISTRY) registry: Registry,
  ) {
    this.gauge = dependencyGauge(registry);
  }

  @Get('live')
  @HttpCode(200)
  live(): { status: 'ok' } {
    return { status: 'ok' };
  }

  @Get('ready')
  async ready(
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<{ status: string; service: string; dependencies: DependencyStatus[] }> {
    const dependencies = await runProbes(this.probes, this.gauge);
    const ok = dependencies.every((d) => d.up);
    void reply.status(ok ? 200 : 503);
    return { status: ok ? 'ok' : 'unavailable', service: this.service, dependencies };
  }
}

@ApiExcludeController()
@Controller('metrics')
export class MetricsHttpController {
  constructor(@Inject(METRICS_REGISTRY) private readonly registry: Registry) {}

  @Get()
  @Header('Cache-Control', 'no-store')
  async metrics(@Res() reply: FastifyReply): Promise<void> {
    const body = await this.registry.metrics();
    void reply.header('Content-Type', this.registry.contentType).send(body);
  }
}
