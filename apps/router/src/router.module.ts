import { Module, type DynamicModule, type Provider } from '@nestjs/common';
import type { RouterConfig } from '@torouter/config';
import { EventBus, RpcClient } from '@torouter/messaging';
import {
  APP_CONFIG,
  DEPENDENCY_PROBES,
  METRICS_REGISTRY,
  type DependencyProbe,
} from '@torouter/service-runtime';
import type { Redis } from 'ioredis';
import type { Registry } from 'prom-client';
import { DataSource } from 'typeorm';
import { AccessService } from './access/access.service';
import { KeyPolicyCache } from './access/key-policy.cache';
import { CatalogCache } from './catalog/catalog.cache';
import { CatalogHttpController } from './catalog/catalog.http.controller';
import { CatalogRepository } from './catalog/catalog.repository';
import { AnthropicHttpController } from './data-plane/anthropic.http.controller';
import { GeminiHttpController } from './data-plane/gemini.http.controller';
import { OpenAiHttpController } from './data-plane/openai.http.controller';
import { RelayService } from './data-plane/relay.service';
import { RouterHealthController } from './health/health.http.controller';
import { DemoProvider } from './relay';
import { REDIS } from './tokens';

export interface RouterConnections {
  config: RouterConfig;
  dataSource: DataSource;
  redis: Redis;
  rpc: RpcClient;
  events: EventBus;
  metrics: Registry;
  probes: DependencyProbe[];
}

/** The public edge: data plane, control-plane facade, health and docs. */
@Module({})
export class RouterModule {
  static forRoot(c: RouterConnections): DynamicModule {
    const connections: Provider[] = [
      { provide: APP_CONFIG, useValue: c.config },
      { provide: DataSource, useValue: c.dataSource },
      { provide: REDIS, useValue: c.redis },
      { provide: RpcClient, useValue: c.rpc },
      { provide: EventBus, useValue: c.events },
      { provide: METRICS_REGISTRY, useValue: c.metrics },
      { provide: DEPENDENCY_PROBES, useValue: c.probes },
    ];
    return {
      module: RouterModule,
      controllers: [
        AnthropicHttpController,
        CatalogHttpController,
        GeminiHttpController,
        OpenAiHttpController,
        RouterHealthController,
      ],
      providers: [
        ...connections,
        AccessService,
        CatalogCache,
        CatalogRepository,
        { provide: DemoProvider, useFactory: () => new DemoProvider() },
        KeyPolicyCache,
        RelayService,
      ],
    };
  }
}
