/**
 * Domain errors: every failure the service reports carries a stable string
 * code. Exactly one table (`http/error-status.ts`) maps codes to HTTP.
 */
export type ErrorCode =
  | 'BAD_REQUEST'
  | 'INVALID_REFERENCE'
  | 'INVALID_PATH'
  | 'CHECKSUM_MISMATCH'
  | 'UNAUTHORIZED'
  | 'FORBIDDEN'
  /** A state-changing web API request authenticated by the session cookie without the proof that it came from the UI itself. */
  | 'CSRF'
  | 'NOT_FOUND'
  | 'RECIPE_NOT_FOUND'
  | 'PACKAGE_NOT_FOUND'
  | 'FILE_NOT_FOUND'
  | 'METHOD_NOT_ALLOWED'
  | 'CONFLICT'
  | 'PAYLOAD_TOO_LARGE'
  | 'RANGE_NOT_SATISFIABLE'
  | 'TOO_MANY_REQUESTS'
  | 'UNAVAILABLE'
  /** The connection closed before the request body was whole: a normal event, logged, never reported as a fault. */
  | 'CLIENT_CLOSED';

/** A failure with a code the HTTP edge knows how to report. */
export class ConanError extends Error {
  readonly code: ErrorCode;
  /** Extra response headers (e.g. `Allow` for 405, `Retry-After` for 503). */
  readonly headers: Record<string, string>;

  constructor(code: ErrorCode, message: string, headers: Record<string, string> = {}) {
    super(message);
    this.name = 'ConanError';
    this.code = code;
    this.headers = headers;
  }
}

export const badRequest = (message: string) => new ConanError('BAD_REQUEST', message);
export const unauthorized = (message = 'Authentication required') =>
  new ConanError('UNAUTHORIZED', message);
export const forbidden = (message = 'Permission denied') => new ConanError('FORBIDDEN', message);

/** True for errors raised by backends that mean "try again later", not "your fault". */
export function isConanError(error: unknown): error is ConanError {
  return error instanceof ConanError;
}
