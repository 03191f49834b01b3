import { HttpException } from '@nestjs/common';
import { DomainError, ErrorCodes, ErrorStatus, type ErrorCode } from '@torouter/contracts';
import { InvalidRequestError, UpstreamProtocolError, type GatewayError } from '../relay';

/** Fastify's own errors (body parsing, limits) carry a `code` like FST_ERR_CTP_BODY_TOO_LARGE. */
interface FrameworkError {
  code?: string;
  statusCode?: number;
  message?: string;
}

/**
 * Turns anything thrown on the request path into the gateway's error (status, code, message). Unknown
 * errors become a 500 whose message holds only the request id: internals never reach the client.
 */
export function toGatewayError(e: unknown, requestId: string): GatewayError & { internal: boolean } {
  if (e instanceof DomainError)
    return { status: e.status, code: e.code, message: e.message, internal: false };
  if (e instanceof InvalidRequestError) {
    return {
      status: 400,
      code: ErrorCodes.INVALID_REQUEST,
      message: e.message,
      param: e.param,
      internal: false,
    };
  }
  if (e instanceof UpstreamProtocolError) {
    return { status: 502, code: ErrorCodes.UPSTREAM_UNAVAILABLE, message: e.message, internal: false };
  }
  if (e instanceof HttpException) {
    const status = e.getStatus();
    const code: ErrorCode =
      status === 404
        ? ErrorCodes.NOT_FOUND
        : status === 413
          ? ErrorCodes.REQUEST_TOO_LARGE
          : status < 500
            ? ErrorCodes.INVALID_REQUEST
            : ErrorCodes.INTERNAL_ERROR;
    return { status, code, message: e.message, internal: status >= 500 };
  }
  const fe = e as FrameworkError;
  if (fe?.code === 'FST_ERR_CTP_BODY_TOO_LARGE' || fe?.statusCode === 413) {
    return {
      status: 413,
      code: ErrorCodes.REQUEST_TOO_LARGE,
      message: 'request body is larger than the limit',
      internal: false,
    };
  }
  if (
    e instanceof SyntaxError ||
    (typeof fe?.statusCode === 'number' && fe.statusCode >= 400 && fe.statusCode < 500)
  ) {
    const status = fe.statusCode && fe.statusCode !== 500 ? fe.statusCode : 400;
    const message =
      e instanceof SyntaxError ? `malformed JSON body: ${e.message}` : (fe.message ?? 'bad request');
    return {
      status,
      code: status === 404 ? ErrorCodes.NOT_FOUND : ErrorCodes.INVALID_REQUEST,
      message,
      internal: false,
    };
  }
  return {
    status: ErrorStatus.internal_error,
    code: ErrorCodes.INTERNAL_ERROR,
    message: `internal error; quote request id ${requestId} when reporting it`,
    internal: true,
  };
}
