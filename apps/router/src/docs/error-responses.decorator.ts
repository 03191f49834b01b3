import { applyDecorators } from '@nestjs/common';
import { ApiResponse } from '@nestjs/swagger';
import type { SchemaObject } from '@nestjs/swagger/dist/interfaces/open-api-spec.interface';

/** The data-plane error responses every proxied route can give (DECISIONS.md), in that route's envelope. */
export function DataPlaneErrors(envelope: SchemaObject): MethodDecorator & ClassDecorator {
  const r = (status: number, description: string) => ApiResponse({ status, description, schema: envelope });
  return applyDecorators(
    r(
      400,
      'Malformed body (`invalid_request`) or API key in the query string (`api_key_in_query_deprecated`)',
    ),
    r(401, '`API_KEY_REQUIRED`, `INVALID_API_KEY`, `API_KEY_DISABLED`, `API_KEY_EXPIRED`, `USER_INACTIVE`'),
    r(402, '`INSUFFICIENT_BALANCE` or `API_KEY_QUOTA_EXHAUSTED`'),
    r(403, '`ACCESS_DENIED` (IP), `model_not_allowed`, `SUBSCRIPTION_NOT_FOUND`, `SUBSCRIPTION_INVALID`'),
    r(404, '`model_not_found`'),
    r(413, '`request_too_large`'),
    r(429, '`RATE_LIMIT_EXCEEDED` or `USAGE_LIMIT_EXCEEDED`, with Retry-After'),
    r(502, '`upstream_unavailable`: every candidate channel failed'),
    r(503, '`upstream_unavailable`: no eligible channel'),
    r(504, '`upstream_timeout`'),
  );
}
