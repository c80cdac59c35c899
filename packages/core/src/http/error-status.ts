import { MetadataUnavailableError } from '../metadata/metadata-store.js';
import { ConanError, type ErrorCode } from '../service/errors.js';
import { BlobStoreUnavailableError } from '../storage/blob-store.js';

/** The one table mapping domain error codes to HTTP statuses. */
export const ERROR_STATUS: Record<ErrorCode, number> = {
  BAD_REQUEST: 400,
  INVALID_REFERENCE: 400,
  INVALID_PATH: 400,
  CHECKSUM_MISMATCH: 400,
  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  CSRF: 403,
  NOT_FOUND: 404,
  RECIPE_NOT_FOUND: 404,
  PACKAGE_NOT_FOUND: 404,
  FILE_NOT_FOUND: 404,
  METHOD_NOT_ALLOWED: 405,
  CONFLICT: 409,
  PAYLOAD_TOO_LARGE: 413,
  RANGE_NOT_SATISFIABLE: 416,
  TOO_MANY_REQUESTS: 429,
  UNAVAILABLE: 503,
  // Nobody is left to read it when the client went away; a host that reads
  // bodies another way may still have a client to tell its body was broken.
  CLIENT_CLOSED: 400,
};

/** Seconds a client should wait before retrying a 503. */
const RETRY_AFTER_SECONDS = '2';

/**
 * Turns anything thrown while handling a request into a short plain-text
 * response. Unknown errors become 500 and are reported through `onError`.
 */
export function errorResponse(error: unknown, onError?: (error: unknown) => void): Response {
  if (error instanceof ConanError) {
    const status = ERROR_STATUS[error.code];
    const headers: Record<string, string> = { 'content-type': 'text/plain; charset=utf-8', ...error.headers };
    if (status === 401) headers['www-authenticate'] ??= 'Bearer realm="conan"';
    if (status === 503) headers['retry-after'] ??= RETRY_AFTER_SECONDS;
    return new Response(error.message, { status, headers });
  }
  if (error instanceof MetadataUnavailableError || error instanceof BlobStoreUnavailableError) {
    onError?.(error);
    return new Response('Service temporarily unavailable, retry shortly', {
      status: 503,
      headers: { 'content-type': 'text/plain; charset=utf-8', 'retry-after': RETRY_AFTER_SECONDS },
    });
  }
  onError?.(error);
  return new Response('Internal server error', {
    status: 500,
    headers: { 'content-type': 'text/plain; charset=utf-8' },
  });
}
