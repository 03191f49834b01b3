/**
 * Error codes that cross service boundaries. Services throw `DomainError`s carrying one of these; the
 * RPC filter turns them into `RpcErrorPayload`s on the wire, and the router maps each code to an HTTP
 * status in one table (`ErrorStatus`). Data-plane codes and their statuses are pinned by DECISIONS.md.
 */
export const ErrorCodes = {
  // data plane (DECISIONS.md)
  API_KEY_REQUIRED: 'API_KEY_REQUIRED',
  INVALID_API_KEY: 'INVALID_API_KEY',
  API_KEY_DISABLED: 'API_KEY_DISABLED',
  API_KEY_EXPIRED: 'API_KEY_EXPIRED',
  USER_INACTIVE: 'USER_INACTIVE',
  USER_NOT_FOUND: 'USER_NOT_FOUND',
  ACCESS_DENIED: 'ACCESS_DENIED',
  MODEL_NOT_ALLOWED: 'model_not_allowed',
  SUBSCRIPTION_NOT_FOUND: 'SUBSCRIPTION_NOT_FOUND',
  SUBSCRIPTION_INVALID: 'SUBSCRIPTION_INVALID',
  INSUFFICIENT_BALANCE: 'INSUFFICIENT_BALANCE',
  API_KEY_QUOTA_EXHAUSTED: 'API_KEY_QUOTA_EXHAUSTED',
  USAGE_LIMIT_EXCEEDED: 'USAGE_LIMIT_EXCEEDED',
  RATE_LIMIT_EXCEEDED: 'RATE_LIMIT_EXCEEDED',
  MODEL_NOT_FOUND: 'model_not_found',
  INVALID_REQUEST: 'invalid_request',
  REQUEST_TOO_LARGE: 'request_too_large',
  API_KEY_IN_QUERY_DEPRECATED: 'api_key_in_query_deprecated',
  UPSTREAM_UNAVAILABLE: 'upstream_unavailable',
  UPSTREAM_TIMEOUT: 'upstream_timeout',
  // control plane
  VALIDATION_FAILED: 'validation_failed',
  NOT_FOUND: 'not_found',
  CONFLICT: 'conflict',
  UNAUTHORIZED: 'unauthorized',
  FORBIDDEN: 'forbidden',
  RATE_LIMITED: 'rate_limited',
  // accounts (auth)
  EMAIL_TAKEN: 'email_taken',
  INVALID_TOKEN: 'invalid_token',
  INVALID_CREDENTIALS: 'invalid_credentials',
  TOTP_REQUIRED: 'totp_required',
  INVALID_TOTP: 'invalid_totp',
  EMAIL_NOT_VERIFIED: 'email_not_verified',
  ACCOUNT_SUSPENDED: 'account_suspended',
  // infrastructure
  SERVICE_UNAVAILABLE: 'service_unavailable',
  INTERNAL_ERROR: 'internal_error',
} as const;

export type ErrorCode = (typeof ErrorCodes)[keyof typeof ErrorCodes];

/** The one table from error code to HTTP status. */
export const ErrorStatus: Record<ErrorCode, number> = {
  API_KEY_REQUIRED: 401,
  INVALID_API_KEY: 401,
  API_KEY_DISABLED: 401,
  API_KEY_EXPIRED: 401,
  USER_INACTIVE: 401,
  USER_NOT_FOUND: 401,
  ACCESS_DENIED: 403,
  model_not_allowed: 403,
  SUBSCRIPTION_NOT_FOUND: 403,
  SUBSCRIPTION_INVALID: 403,
  INSUFFICIENT_BALANCE: 402,
  API_KEY_QUOTA_EXHAUSTED: 402,
  USAGE_LIMIT_EXCEEDED: 429,
  RATE_LIMIT_EXCEEDED: 429,
  model_not_found: 404,
  invalid_request: 400,
  request_too_large: 413,
  api_key_in_query_deprecated: 400,
  upstream_unavailable: 502,
  upstream_timeout: 504,
  validation_failed: 400,
  not_found: 404,
  conflict: 409,
  unauthorized: 401,
  forbidden: 403,
  rate_limited: 429,
  email_taken: 409,
  invalid_token: 400,
  invalid_credentials: 401,
  totp_required: 401,
  invalid_totp: 401,
  email_not_verified: 403,
  account_suspended: 403,
  service_unavailable: 503,
  internal_error: 500,
};

/** What an error looks like on the NATS wire. */
export interface RpcErrorPayload {
  code: ErrorCode;
  message: string;
  details?: Record<string, unknown>;
  requestId?: string;
}

/** A failure the caller can act on. Domain code throws these, never HTTP exceptions. */
export class DomainError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: Record<string, unknown>,
    /** For the few codes DECISIONS.md gives two statuses (upstream_unavailable: 502 or 503). */
    private readonly statusOverride?: number,
  ) {
    super(message);
    this.name = 'DomainError';
  }

  get status(): number {
    return this.statusOverride ?? ErrorStatus[this.code];
  }
}

export function isRpcErrorPayload(value: unknown): value is RpcErrorPayload {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  return typeof v.code === 'string' && typeof v.message === 'string' && v.code in ErrorStatus;
}
