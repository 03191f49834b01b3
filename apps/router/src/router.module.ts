import { Global, Module, type DynamicModule, type Provider } from '@nestjs/common';
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
import { AccessModule } from './access/access.module';
import { AdmissionModule } from './admission/admission.module';
import { CatalogModule } from './catalog/catalog.module';
import { ChannelsModule } from './channels/channels.module';
import { AuthFacadeModule } from './control-plane/auth/auth-facade.module';
import { BillingControlPlaneModule } from './control-plane/billing/billing-control-plane.module';
import { ControlPlaneAccessModule } from './control-plane/control-plane-access.module';
import { KeysControlPlaneModule } from './control-plane/keys/keys-control-plane.module';
import { UsageFacadeModule } from './control-plane/usage/usage-facade.module';
import { DataPlaneModule } from './data-plane/data-plane.module';
import { HealthModule } from './health/health.module';
import { LimitsModule } from './limits/limits.module';
import { QuotaModule } from './quota/quota.module';
import { SpendModule } from './spend/spend.module';
import { REDIS } from './tokens';
import { UsageEventsModule } from './usage-events/usage-events.module';

export interface RouterConnections {
  config: RouterConfig;
  dataSource: DataSource;
  redis: Redis;
  rpc: RpcClient;
  events: EventBus;
  metrics: Registry;
  probes: DependencyProbe[];
}

@Global()
@Module({})
class RouterRuntimeModule {}

/**
 * The public edge. Connections are created once (router.app.ts) and provided globally; each feature is
 * its own module. A new control-plane feature adds its module to `features` below.
 */
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
    const features = [
      AccessModule,
      AdmissionModule,
      AuthFacadeModule,
      BillingControlPlaneModule,
      CatalogModule,
      ChannelsModule,
      ControlPlaneAccessModule,
      DataPlaneModule,
      HealthModule,
      KeysControlPlaneModule,
      LimitsModule,
      QuotaModule,
      SpendModule,
      UsageEventsModule,
      UsageFacadeModule,
    ];
    return {
      module: RouterModule,
      imports: [
        {
          module: RouterRuntimeModule,
          providers: connections,
          exports: [APP_CONFIG, DataSource, REDIS, RpcClient, EventBus, METRICS_REGISTRY, DEPENDENCY_PROBES],
        },
        ...features,
      ],
    };
  }
}
