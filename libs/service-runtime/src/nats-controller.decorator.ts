import { applyDecorators, Controller, UseFilters, UseInterceptors } from '@nestjs/common';
import { NatsRequestIdInterceptor, RpcErrorFilter } from '@torouter/messaging';

/**
 * Marks a class as a NATS handler set: request ids from message headers and the one RPC error shape.
 * Bound per controller, not globally, so HTTP health routes keep HTTP semantics.
 */
export function NatsController(): ClassDecorator {
  return applyDecorators(Controller(), UseFilters(RpcErrorFilter), UseInterceptors(NatsRequestIdInterceptor));
}
