import { Controller, Get, Header, Inject, Res } from '@nestjs/common';
import type { SchemaObject } from '@nestjs/swagger/dist/interfaces/open-api-spec.interface';
import { ApiOkResponse, ApiOperation, ApiServiceUnavailableResponse, ApiTags } from '@nestjs/swagger';
import {
  HealthSubjects,
  InternalServices,
  type DependencyStatus,
  type HealthCheckResponse,
} from '@torouter/contracts';
import { RpcClient } from '@torouter/messaging';
import {
  DEPENDENCY_PROBES,
  METRICS_REGISTRY,
  runProbes,
  type DependencyProbe,
} from '@torouter/service-runtime';
import type { FastifyReply } from 'fastify';
import type { Registry } from 'prom-client';

const serviceCheckTimeoutMs = 2000;

const healthSchema: SchemaObject = {
  type: 'object',
  properties: {
    status: { type: 'string', enum: ['ok', 'unavailable'] },
    services: { type: 'object', additionalProperties: { type: 'object' } },
    dependencies: { type: 'array', items: { type: 'object' } },
  },
};

@ApiTags('Health')
@Controller()
export class RouterHealthController {
  constructor(
    private readonly rpc: RpcClient,
    @Inject(DEPENDENCY_PROBES) private readonly probes: DependencyProbe[],
    @Inject(METRICS_REGISTRY) private readonly registry: Registry,
  ) {}

  @Get('health')
  @ApiOperation({
    operationId: 'getStackHealth',
    summary: 'Whole-stack health: ok only when every service answers over NATS and every dependency is up',
  })
  @ApiOkResponse({ schema: { type: 'object', properties: { status: { type: 'string', enum: ['ok'] } } } })
  @ApiServiceUnavailableResponse({ schema: healthSchema })
  async getStackHealth(@Res({ passthrough: true }) reply: FastifyReply): Promise<Record<string, unknown>> {
    const [dependencies, services] = await Promise.all([runProbes(this.probes), this.askServices()]);
    const ok = dependencies.every((d) => d.up) && Object.values(services).every((s) => s.status === 'ok');
    if (ok) return { status: 'ok' };
    void reply.status(503);
    return { status: 'unavailable', services, dependencies };
  }

  @Get('health/live')
  @ApiOperation({ operationId: 'getLiveness', summary: 'Liveness: the process answers' })
  getLiveness(): { status: 'ok' } {
    return { status: 'ok' };
  }

  @Get('health/ready')
  @ApiOperation({
    operationId: 'getReadiness',
    summary: "Readiness: the router's own Postgres, Redis and NATS connections are up",
  })
  @ApiOkResponse({ schema: healthSchema })
  @ApiServiceUnavailableResponse({ schema: healthSchema })
  async getReadiness(
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<{ status: string; dependencies: DependencyStatus[] }> {
    const dependencies = await runProbes(this.probes);
    const ok = dependencies.every((d) => d.up);
    void reply.status(ok ? 200 : 503);
    return { status: ok ? 'ok' : 'unavailable', dependencies };
  }

  @Get('metrics')
  @Header('Cache-Control', 'no-store')
  @ApiOperation({ operationId: 'getMetrics', summary: 'Prometheus metrics of this router process' })
  async getMetrics(@Res() reply: FastifyReply): Promise<void> {
    void reply.header('Content-Type', this.registry.contentType).send(await this.registry.metrics());
  }

  private async askServices(): Promise<
    Record<string, HealthCheckResponse | { status: 'unreachable'; error: string }>
  > {
    const answers = await Promise.all(
      InternalServices.map(async (name) => {
        try {
          return [
            name,
            await this.rpc.send(HealthSubjects[name], {}, { timeoutMs: serviceCheckTimeoutMs }),
          ] as const;
        } catch (e) {
          return [
            name,
            { status: 'unreachable' as const, error: e instanceof Error ? e.message : String(e) },
          ] as const;
        }
      }),
    );
    return Object.fromEntries(answers);
  }
}
