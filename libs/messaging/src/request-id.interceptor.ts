import { Injectable, type CallHandler, type ExecutionContext, type NestInterceptor } from '@nestjs/common';
import type { NatsContext } from '@nestjs/microservices';
import { newRequestId, REQUEST_ID_HEADER, requestIdFrom, runWithRequestId } from '@torouter/observability';
import { Observable } from 'rxjs';

/** Runs each NATS handler inside the request id the caller sent in the message headers. */
@Injectable()
export class NatsRequestIdInterceptor implements NestInterceptor {
  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const ctx = context.switchToRpc().getContext<NatsContext>();
    const header =
      typeof ctx?.getHeaders === 'function' ? ctx.getHeaders()?.get(REQUEST_ID_HEADER) : undefined;
    const requestId = header ? requestIdFrom(header) : newRequestId();
    return new Observable((subscriber) =>
      runWithRequestId(requestId, () => next.handle().subscribe(subscriber)),
    );
  }
}
