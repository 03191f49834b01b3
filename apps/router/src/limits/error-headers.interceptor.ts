import { Injectable, type CallHandler, type ExecutionContext, type NestInterceptor } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { catchError, throwError, type Observable } from 'rxjs';
import { responseHeadersOf } from './rate-limit-headers';

/**
 * Sets the headers an error carries (`responseHeaders`: Retry-After, x-ratelimit-*) on the reply before
 * the error responder writes the body, so a refused request tells the client when to retry. Registered
 * globally (APP_INTERCEPTOR) by LimitsModule; any error class with `responseHeaders` benefits.
 */
@Injectable()
export class ErrorHeadersInterceptor implements NestInterceptor {
  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    return next.handle().pipe(
      catchError((e: unknown) => {
        const headers = responseHeadersOf(e);
        if (headers && context.getType() === 'http') {
          const reply = context.switchToHttp().getResponse<FastifyReply>();
          if (!reply.sent && !reply.raw.headersSent) void reply.headers(headers);
        }
        return throwError(() => e);
      }),
    );
  }
}
