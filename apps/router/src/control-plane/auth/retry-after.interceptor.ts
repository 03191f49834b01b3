import { Injectable, type CallHandler, type ExecutionContext, type NestInterceptor } from '@nestjs/common';
import { DomainError, ErrorCodes } from '@torouter/contracts';
import type { FastifyReply } from 'fastify';
import { catchError, throwError, type Observable } from 'rxjs';

/** A `rate_limited` error from auth carries `retryAfterSeconds`; the client gets it as `Retry-After`. */
@Injectable()
export class RetryAfterInterceptor implements NestInterceptor {
  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    return next.handle().pipe(
      catchError((e: unknown) => {
        const seconds = e instanceof DomainError ? e.details?.retryAfterSeconds : undefined;
        if (e instanceof DomainError && e.code === ErrorCodes.RATE_LIMITED && typeof seconds === 'number') {
          void context.switchToHttp().getResponse<FastifyReply>().header('Retry-After', String(seconds));
        }
        return throwError(() => e);
      }),
    );
  }
}
