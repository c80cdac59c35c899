import { S3Client, type S3ClientConfig } from '@aws-sdk/client-s3';
import { z } from 'zod';

const SECRET_PARAMS = ['secretAccessKey', 'sessionToken'] as const;

const bucketSchema = z
  .string()
  .regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, 'must be 3-63 characters of a-z, 0-9, "." and "-"');

const paramsSchema = z
  .strictObject({
    /** AWS region; default from the SDK chain (AWS_REGION...), or us-east-1 when an endpoint is given. */
    region: z.string().min(1).optional(),
    /** Endpoint of an S3-compatible store, e.g. http://127.0.0.1:9000. */
    endpoint: z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' }).optional(),
    /** `true` for stores without virtual-host buckets (MinIO, Ceph, s3rver...). */
    forcePathStyle: z.enum(['true', 'false']).optional(),
    accessKeyId: z.string().min(1).optional(),
    secretAccessKey: z.string().min(1).optional(),
    sessionToken: z.string().min(1).optional(),
    /**
     * `when_required` for S3-compatible stores that reject the SDK's default
     * integrity checksums (CRC32 headers and trailers); default `when_supported`.
     */
    checksums: z.enum(['when_supported', 'when_required']).optional(),
  })
  .refine((p) => !!p.accessKeyId === !!p.secretAccessKey, {
    error: 'accessKeyId and secretAccessKey must be given together',
  })
  .refine((p) => !p.sessionToken || !!p.accessKeyId, { error: 'sessionToken needs accessKeyId and secretAccessKey' });

/** What {@link s3ClientFromUrl} returns: pass it to `new S3BlobStore(...)`. */
export interface S3Location {
  client: S3Client;
  bucket: string;
  /** Key prefix from the URL path, without leading or trailing `/` (may be empty). */
  prefix: string;
}

/** Socket timeouts of the client {@link s3ClientFromUrl} builds. */
export interface S3ClientTimeouts {
  /** Longest TCP (and TLS) connection setup, in ms. Default 10000. */
  connectTimeoutMs?: number;
  /**
   * A socket that moves no byte for this long is closed and its request
   * fails, in ms: a part upload or a download stalled mid-body, a request
   * never answered. Default 30000.
   */
  idleTimeoutMs?: number;
}

/** Thrown for a malformed `s3://` URL. Its message never contains the URL (which may hold a secret). */
export class S3UrlError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'S3UrlError';
  }
}

/**
 * Builds an S3 client from a URL, for configuration files and CLIs (hosts
 * that embed Cimmeria should build their own `S3Client` and inject it):
 *
 * `s3://BUCKET/PREFIX?region=eu-west-1`
 * `s3://BUCKET/PREFIX?endpoint=http://127.0.0.1:9000&forcePathStyle=true&region=us-east-1`
 *
 * Parameters: `region`, `endpoint`, `forcePathStyle`, `accessKeyId` +
 * `secretAccessKey` (+ `sessionToken`), `checksums` (`when_required` for
 * stores that reject the SDK's default CRC32 checksums). Unknown parameters
 * are refused. Without keys, credentials come from the SDK's default chain
 * (environment, shared config and SSO, web identity, ECS/EC2 roles) — prefer
 * that: a secret in a URL ends up in shell history, process lists and logs.
 * If you do put one there, never log the URL; log {@link redactS3Url}'s
 * result instead. Errors thrown here never contain the URL.
 *
 * `config` is merged over what the URL says (e.g. `maxAttempts`, a request handler).
 * Unless `config.requestHandler` is given, the client's sockets get the
 * `timeouts` (connection setup, inactivity): without them the SDK waits
 * forever on a silent network.
 */
export function s3ClientFromUrl(url: string, config: S3ClientConfig = {}, timeouts: S3ClientTimeouts = {}): S3Location {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    // Node's ERR_INVALID_URL carries the input: do not let it travel.
    throw new S3UrlError('Invalid S3 URL: expected s3://BUCKET/PREFIX?PARAMS');
  }
  if (parsed.protocol !== 's3:') throw new S3UrlError(`Invalid S3 URL: the scheme must be s3:, not ${parsed.protocol}`);
  if (parsed.username || parsed.password) {
    throw new S3UrlError('Invalid S3 URL: put credentials in accessKeyId/secretAccessKey parameters (or the SDK chain), not in user:password@');
  }
  const bucket = bucketSchema.safeParse(decodeURIComponent(parsed.hostname));
  if (!bucket.success) throw new S3UrlError(`Invalid S3 URL: bucket ${bucket.error.issues[0]?.message ?? 'is invalid'}`);

  const raw: Record<string, string> = {};
  for (const [name, value] of parsed.searchParams) {
    if (name in raw) throw new S3UrlError(`Invalid S3 URL: parameter ${name} given twice`);
    raw[name] = value;
  }
  const params = paramsSchema.safeParse(raw);
  if (!params.success) {
    const details = params.error.issues.map((issue) =>
      issue.code === 'unrecognized_keys'
        ? `unknown parameter(s) ${issue.keys.join(', ')}`
        : `${issue.path.length ? `${issue.path.join('.')} ` : ''}${issue.message}`,
    );
    throw new S3UrlError(`Invalid S3 URL: ${details.join('; ')}`);
  }
  const p = params.data;

  const clientConfig: S3ClientConfig = {
    requestHandler: {
      connectionTimeout: timeouts.connectTimeoutMs ?? 10_000,
      socketTimeout: timeouts.idleTimeoutMs ?? 30_000,
    },
  };
  const region = p.region ?? (p.endpoint ? 'us-east-1' : undefined);
  if (region) clientConfig.region = region;
  if (p.endpoint) clientConfig.endpoint = p.endpoint;
  if (p.forcePathStyle) clientConfig.forcePathStyle = p.forcePathStyle === 'true';
  if (p.accessKeyId && p.secretAccessKey) {
    clientConfig.credentials = {
      accessKeyId: p.accessKeyId,
      secretAccessKey: p.secretAccessKey,
      ...(p.sessionToken ? { sessionToken: p.sessionToken } : {}),
    };
  }
  if (p.checksums) {
    const mode = p.checksums === 'when_required' ? 'WHEN_REQUIRED' : 'WHEN_SUPPORTED';
    clientConfig.requestChecksumCalculation = mode;
    clientConfig.responseChecksumValidation = mode;
  }
  const prefix = decodeURIComponent(parsed.pathname).replace(/^\/+|\/+$/g, '');
  return { client: new S3Client({ ...clientConfig, ...config }), bucket: bucket.data, prefix };
}

/** The URL with its secrets (`secretAccessKey`, `sessionToken`) replaced by `***`, fit for logs. */
export function redactS3Url(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return '<invalid S3 URL>';
  }
  if (parsed.password) parsed.password = '***';
  for (const name of SECRET_PARAMS) {
    if (parsed.searchParams.has(name)) parsed.searchParams.set(name, '***');
  }
  return parsed.toString().replaceAll('%2A%2A%2A', '***');
}
