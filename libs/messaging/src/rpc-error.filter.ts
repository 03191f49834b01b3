import { Catch, Logger, type ArgumentsHost, type RpcExceptionFilter } from '@nestjs/common';
import { DomainError, ErrorCodes, type RpcErrorPayload } from '@torouter/contracts';
import { currentRequestId } from '@torouter/observability';
import { throwError, type Observable } from 'rxjs';

/**
 * Turns anything a NATS handler throws into the one error shape that crosses the wire
 * (`{code, message, details?, requestId}`). Domain errors pass their code through; anything else is logged
 * here with its stack and reaches the caller as `internal_error` without internals.
 */
@Catch()
export class RpcErrorFilter implements RpcExceptionFilter<unknown> {
  private readonly logger = new Logger('RpcErrorFilter');

  catch(exception: unknown, _host: ArgumentsHost): Observable<never> {
    const requestId = currentRequestId();
    let payload: RpcErrorPayload;
    if (exception instanceof DomainError) {
      payload = { code: exception.code, message: exception.message, details: exception.details, requestId };
    } else {
      const err = exception instanceof Error ? exception : new Error(String(exception));
      this.logger.error(`unhandled error in NATS handler: ${err.message}`, err.stack);
      payload = { code: ErrorCodes.INTERNAL_ERROR, message: 'internal error', requestId };
    }
    return throwError(() => payload);
  }
}
