import { Module, type DynamicModule, type OnApplicationShutdown } from '@nestjs/common';
import type { KeysConfig } from '@torouter/config';
import { RpcClient } from '@torouter/messaging';
import type { ServiceRuntime } from '@torouter/service-runtime';
import { ApiKeysNatsController } from './api-keys.nats.controller';
import { ApiKeysRepository } from './api-keys.repository';
import { ApiKeysService } from './api-keys.service';
import { ApiKeysSweeper } from './api-keys.sweeper';

/** Closes the client keys uses to ask auth (account status) and billing (plans). */
class RpcClientCloser implements OnApplicationShutdown {
  constructor(private readonly rpc: RpcClient) {}

  async onApplicationShutdown(): Promise<void> {
    await this.rpc.close();
  }
}

@Module({})
export class ApiKeysModule {
  static forRuntime(runtime: ServiceRuntime<KeysConfig>): DynamicModule {
    const { config } = runtime;
    return {
      module: ApiKeysModule,
      controllers: [ApiKeysNatsController],
      providers: [
        {
          provide: RpcClient,
          useFactory: async () => {
            const rpc = new RpcClient({
              natsUrl: config.NATS_URL,
              namespace: config.TOROUTER_NAMESPACE,
              timeoutMs: config.NATS_REQUEST_TIMEOUT_MS,
              name: `${config.TOROUTER_NAMESPACE}-keys-client`,
            });
            await rpc.connect();
            return rpc;
          },
        },
        {
          provide: RpcClientCloser,
          useFactory: (rpc: RpcClient) => new RpcClientCloser(rpc),
          inject: [RpcClient],
        },
        ApiKeysRepository,
        ApiKeysService,
        ApiKeysSweeper,
      ],
    };
  }
}
