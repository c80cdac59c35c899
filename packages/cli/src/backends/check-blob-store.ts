import { withinDeadline, type BlobStore } from '@cimmeria/core';
import { CommandError } from '../errors.js';

/** How long the blob store may take to answer the start-up check. */
export const BLOB_STORE_CHECK_TIMEOUT_MS = 10_000;

interface SdkErrorShape {
  name?: string;
  message?: string;
  cause?: unknown;
  $metadata?: { httpStatusCode?: number };
}

/**
 * Why the store failed, in the operator's terms. S3 answers a `HEAD` of the
 * bucket with a bare status (no error code in the body), so the status says it.
 */
function reasonOf(error: unknown): string {
  const outer = (error ?? {}) as SdkErrorShape;
  const cause = (outer.cause ?? {}) as SdkErrorShape;
  const status = cause.$metadata?.httpStatusCode ?? outer.$metadata?.httpStatusCode;
  const names = [outer.name, cause.name];
  if (names.includes('CredentialsProviderError')) {
    return 'no S3 credentials found (give accessKeyId and secretAccessKey, or set up the AWS SDK chain: AWS_* variables, a profile, a role)';
  }
  if (status === 403) return 'access denied (HTTP 403): check the credentials and that they may use this bucket';
  if (status === 404 || names.includes('NoSuchBucket')) return 'no such bucket (HTTP 404): create it first';
  if (status === 301) return 'the bucket is in another region (HTTP 301): set region=';
  const text = outer.message || String(error);
  // The driver's own words (e.g. `connect ECONNREFUSED 10.0.0.5:9000`) name the endpoint, which helps.
  return cause.message && !text.includes(cause.message) ? `${text}: ${cause.message}` : text;
}

/**
 * Checks at start that the blob store answers (S3: the bucket exists and the
 * credentials may use it), within `timeoutMs`, as opening the database checks
 * it: a broken storage setting stops the command at once instead of failing
 * uploads minutes later. Stores without `ping` are taken as they are.
 * Throws a {@link CommandError} naming the (redacted) store.
 */
export async function checkBlobStore(store: BlobStore, description: string, timeoutMs = BLOB_STORE_CHECK_TIMEOUT_MS): Promise<void> {
  if (!store.ping) return;
  let outcome;
  try {
    outcome = await withinDeadline(timeoutMs, () => store.ping!());
  } catch (error) {
    throw new CommandError(`Cannot use the blob store ${description}: ${reasonOf(error)}`);
  }
  if (outcome === 'timeout') {
    throw new CommandError(`Cannot use the blob store ${description}: no answer within ${timeoutMs / 1000} s`);
  }
}
