import { BlobNotFoundError, BlobStoreUnavailableError } from '@cimmeria/core';

/** Socket-level failures: the store cannot be reached (or the connection broke). */
const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'EHOSTDOWN',
  'ENETUNREACH',
  'ENETDOWN',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_SOCKET',
]);

/** Error names of the SDK and S3 that mean "the store is not usable right now", whatever the key. */
const UNAVAILABLE_NAMES = new Set([
  'TimeoutError',
  'RequestTimeout',
  'RequestTimeoutException',
  'ServiceUnavailable',
  'SlowDown',
  'InternalError',
  'NoSuchBucket',
  'CredentialsProviderError',
]);

interface SdkErrorShape {
  name?: string;
  code?: string;
  cause?: unknown;
  errors?: unknown[];
  $metadata?: { httpStatusCode?: number };
}

function networkCodeOf(error: unknown, depth = 0): string | undefined {
  if (!error || typeof error !== 'object' || depth > 4) return undefined;
  const e = error as SdkErrorShape;
  if (typeof e.code === 'string' && NETWORK_CODES.has(e.code)) return e.code;
  // Happy eyeballs and undici wrap the socket error (AggregateError, `cause`).
  for (const inner of [e.cause, ...(Array.isArray(e.errors) ? e.errors : [])]) {
    const code = networkCodeOf(inner, depth + 1);
    if (code) return code;
  }
  return undefined;
}

/** HTTP status of an SDK service error, when there was a response. */
export function statusOf(error: unknown): number | undefined {
  return (error as SdkErrorShape | undefined)?.$metadata?.httpStatusCode;
}

/** True for "no such object" answers of GetObject (`NoSuchKey`) and HeadObject (bare 404 `NotFound`). */
export function isNoSuchKey(error: unknown): boolean {
  const name = (error as SdkErrorShape | undefined)?.name;
  if (name === 'NoSuchKey' || name === 'NotFound') return true;
  return statusOf(error) === 404 && name !== 'NoSuchBucket';
}

/** True when the error says the store cannot be reached or is failing, rather than something about one key. */
export function isUnavailable(error: unknown): boolean {
  if (networkCodeOf(error)) return true;
  const name = (error as SdkErrorShape | undefined)?.name;
  if (name && UNAVAILABLE_NAMES.has(name)) return true;
  const status = statusOf(error);
  return status !== undefined && status >= 500;
}

/**
 * Turns an SDK error into the core's blob errors where one applies
 * (missing key -> {@link BlobNotFoundError}, outage -> {@link BlobStoreUnavailableError});
 * anything else is returned unchanged.
 */
export function translateError(error: unknown, key: string | undefined, what: string): unknown {
  // Already ours (a deadline of the store, or an error translated further down).
  if (error instanceof BlobStoreUnavailableError || error instanceof BlobNotFoundError) return error;
  if (key !== undefined && isNoSuchKey(error)) return new BlobNotFoundError(key);
  if (isUnavailable(error)) {
    const detail = networkCodeOf(error) ?? (error as SdkErrorShape).name ?? 'error';
    return new BlobStoreUnavailableError(`S3 blob store unavailable (${what}: ${detail})`, { cause: error });
  }
  return error;
}
