// Code-bearing errors of the relay. They carry no HTTP types: the transport layer maps `status`/`code` to
// the client's error envelope through the client format's adapter (`WireAdapter.encodeError`).

/** The client's request cannot be routed or translated. `param` names the offending field. */
export class InvalidRequestError extends Error {
  readonly status = 400;
  readonly code = 'invalid_request_error';

  constructor(
    message: string,
    readonly param?: string,
  ) {
    super(message);
    this.name = 'InvalidRequestError';
  }
}

/**
 * The request is valid in the client's format but uses something the chosen channel's format cannot
 * express (an audio part for Anthropic, a provider's built-in tool for another provider…).
 */
export class UnsupportedFeatureError extends InvalidRequestError {
  constructor(message: string, param?: string) {
    super(message, param);
    this.name = 'UnsupportedFeatureError';
  }
}

/** The upstream answered 2xx with a body this adapter cannot read. */
export class UpstreamProtocolError extends Error {
  readonly status = 502;
  readonly code = 'upstream_invalid_response';

  constructor(message: string) {
    super(message);
    this.name = 'UpstreamProtocolError';
  }
}
