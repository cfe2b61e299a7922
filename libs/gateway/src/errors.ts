/** Why `authenticate` refused; map `status` onto the HTTP response (401, or 503 when failing closed). */
export type GatewayErrorCode =
  | 'MISSING_CREDENTIALS'
  | 'INVALID_TOKEN'
  | 'TOKEN_EXPIRED'
  | 'TOKEN_REVOKED'
  | 'SESSION_INVALID'
  | 'REVOCATIONS_UNAVAILABLE'
  | 'UNAVAILABLE';

const STATUS: Record<GatewayErrorCode, 401 | 503> = {
  MISSING_CREDENTIALS: 401,
  INVALID_TOKEN: 401,
  TOKEN_EXPIRED: 401,
  TOKEN_REVOKED: 401,
  SESSION_INVALID: 401,
  REVOCATIONS_UNAVAILABLE: 503,
  UNAVAILABLE: 503,
};

export class GatewayError extends Error {
  override name = 'GatewayError';
  readonly status: 401 | 503;

  constructor(
    readonly code: GatewayErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.status = STATUS[code];
  }
}
