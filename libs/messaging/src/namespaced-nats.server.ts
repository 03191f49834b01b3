import { ServerNats, type NatsOptions } from '@nestjs/microservices';
import { namespaced } from '@torouter/contracts';

type NatsServerOptions = NonNullable<NatsOptions['options']>;

/**
 * Nest's NATS server with every handler's subject prefixed by the deployment namespace at registration,
 * so `@MessagePattern(Subjects.keysApiKeyLookup)` listens on `<namespace>.keys.api-key.lookup.v1`. The
 * decorators stay static while two stacks (or two test suites) share one NATS server.
 *
 * Every subscription joins the service's queue group, so N replicas handle each request once.
 */
export class NamespacedNatsServer extends ServerNats {
  constructor(
    private readonly namespace: string,
    options: NatsServerOptions & { queue: string },
  ) {
    super({ ...options, queue: namespaced(namespace, options.queue) });
  }

  override addHandler(
    pattern: unknown,
    callback: Parameters<ServerNats['addHandler']>[1],
    isEventHandler?: boolean,
    extras?: Record<string, unknown>,
  ): void {
    if (typeof pattern !== 'string')
      throw new Error('NATS patterns must be subject strings from @torouter/contracts');
    super.addHandler(namespaced(this.namespace, pattern), callback, isEventHandler, extras);
  }
}
