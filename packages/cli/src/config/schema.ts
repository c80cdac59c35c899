import { DEFAULT_MAX_UPLOAD_BYTES } from '@cimmeria/core';
import { z } from 'zod';

/** Log levels, from the loudest filter to the quietest. */
export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** Defaults of `cimmeria serve`. */
export const DEFAULTS = {
  port: 9300,
  host: '0.0.0.0',
  data: './cimmeria-data',
  tokenExpiresMinutes: 120,
  maxUploadBytes: DEFAULT_MAX_UPLOAD_BYTES,
  logLevel: 'info',
  databasePoolSize: 10,
  databaseTimeoutMs: 5000,
  databaseQueryTimeoutMs: 5000,
  storagePartSizeBytes: 8 * 1024 ** 2,
  storageQueueSize: 4,
  storageTimeoutMs: 10_000,
  storageIdleTimeoutMs: 30_000,
  downloads: 'redirect',
  presignExpiresSeconds: 300,
  healthPath: '/healthz',
  readyPath: '/readyz',
  drainDelayMs: 5000,
  shutdownTimeoutMs: 60_000,
  headersTimeoutMs: 10_000,
  connectionIdleTimeoutMs: 60_000,
  keepAliveTimeoutMs: 5_000,
  maxConnections: 1000,
} as const;

/** User names: what Basic auth and permission rules can carry (no `:`, `,`, blanks). */
export const USER_NAME = /^[A-Za-z0-9_][A-Za-z0-9._@-]{0,63}$/;
const USER_NAME_TEXT = 'letters, digits, "_", ".", "@", "-" (at most 64, not starting with ".", "@" or "-")';

// Environment variables and flags are strings: accept "9300" where a number is expected.
const fromDigits = (value: unknown) => (typeof value === 'string' && /^\s*\d+\s*$/.test(value) ? Number(value) : value);

function integer(min: number, max: number) {
  const error = `expected an integer between ${min} and ${max}`;
  return z.preprocess(fromDigits, z.number({ error }).int({ error }).min(min, { error }).max(max, { error }));
}

const UNITS: Record<string, number> = {
  b: 1,
  kb: 1e3,
  mb: 1e6,
  gb: 1e9,
  tb: 1e12,
  kib: 1024,
  mib: 1024 ** 2,
  gib: 1024 ** 3,
  tib: 1024 ** 4,
};

/** `"10GiB"`, `"500 MB"`, `"1048576"` or a number -> bytes; anything else passes through to fail validation. */
function fromSize(value: unknown): unknown {
  if (typeof value !== 'string') return value;
  const match = /^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$/i.exec(value);
  const unit = match && UNITS[(match[2] || 'b').toLowerCase()];
  return match && unit ? Math.round(Number(match[1]) * unit) : value;
}

const sizeError = 'expected a positive number of bytes, such as 1073741824 or "10GiB"';

function size(min = 1) {
  const error = min > 1 ? `expected a number of bytes of at least ${min}, such as "8MiB"` : sizeError;
  return z.preprocess(fromSize, z.number({ error }).int({ error }).min(min, { error }));
}

// Probe paths must not fall inside the Conan API.
const probePath = z
  .string({ error: 'expected a path such as /healthz' })
  .regex(/^\/[A-Za-z0-9._~\/-]*$/, { error: 'expected a path such as /healthz' })
  .refine((p) => !/^\/v[12](\/|$)/.test(p), { error: 'must not start with /v1 or /v2 (the Conan API)' });

// Only the scheme is checked here: the message must never repeat the value (it may hold a password).
const databaseUrl = z
  .string({ error: 'expected sqlite:PATH or postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE' })
  .regex(/^(sqlite:.+|postgres(ql)?:\/\/.+)$/, {
    error: 'expected sqlite:PATH or postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE',
  });
const storageUrl = z
  .string({ error: 'expected fs:DIRECTORY or s3://BUCKET[/PREFIX][?region=..&endpoint=..]' })
  .regex(/^(fs:.+|s3:\/\/.+)$/, { error: 'expected fs:DIRECTORY or s3://BUCKET[/PREFIX][?region=..&endpoint=..]' });

const permissionRule = z.strictObject({
  pattern: z
    .string({ error: 'expected a reference pattern such as "*/*@*/*"' })
    .regex(/^[^\s@/]+\/[^\s@/]+(@[^\s@/]+\/[^\s@/]+)?$/, {
      error: 'expected a reference pattern name/version[@user/channel], such as "*/*@*/*"',
    }),
  // `users: "demo, admin"` reads like conan_server's server.conf, so accept it.
  users: z.preprocess(
    (value) => (typeof value === 'string' ? value.split(',').map((u) => u.trim()).filter((u) => u !== '') : value),
    z.array(z.string().min(1), { error: 'expected a list of user names ("*" for anyone, "?" for any logged-in user)' }),
  ),
});

const rules = z.array(permissionRule, { error: 'expected a list of {pattern, users} rules, first match wins' });

/**
 * The one schema every configuration source is validated against, after
 * they are merged (flags > environment > config file > conan_server conf >
 * defaults).
 */
export const configSchema = z.strictObject({
  port: integer(0, 65535).default(DEFAULTS.port),
  host: z.string({ error: 'expected a host name or IP address to listen on' }).min(1).default(DEFAULTS.host),
  data: z.string({ error: 'expected a directory path' }).min(1, { error: 'expected a directory path' }).default(DEFAULTS.data),
  tokenSecret: z
    .string({ error: 'expected a string of at least 16 characters' })
    .min(16, { error: 'expected a string of at least 16 characters' })
    .optional(),
  /** Secrets still accepted for tokens signed before a rotation (signing uses `tokenSecret` only). */
  previousTokenSecrets: z.preprocess(
    (value) => (typeof value === 'string' ? value.split(',').map((v) => v.trim()).filter((v) => v !== '') : value),
    z.array(
      z.string().min(16, { error: 'expected secrets of at least 16 characters' }),
      { error: 'expected a list of secrets (comma-separated in the environment)' },
    ),
  ).default([]),
  tokenExpiresMinutes: integer(1, 525_600).default(DEFAULTS.tokenExpiresMinutes),
  maxUploadBytes: z
    .preprocess(fromSize, z.number({ error: sizeError }).int({ error: sizeError }).positive({ error: sizeError }))
    .default(DEFAULTS.maxUploadBytes),
  users: z
    .record(
      z.string().regex(USER_NAME, { error: `expected a user name made of ${USER_NAME_TEXT}` }),
      z.string({ error: 'expected a scrypt hash (make one with `cimmeria hash-password`)' }).regex(/^scrypt\$/, {
        error: 'expected a scrypt hash (make one with `cimmeria hash-password`), not a plaintext password',
      }),
      { error: 'expected a map of user name -> scrypt hash' },
    )
    .default({}),
  permissions: z
    .strictObject(
      { read: rules.optional(), write: rules.optional() },
      { error: 'expected {read: [...], write: [...]}' },
    )
    .default({}),
  logLevel: z.enum(LOG_LEVELS, { error: `expected one of ${LOG_LEVELS.join(', ')}` }).default(DEFAULTS.logLevel),
  /** Metadata database. Default: `sqlite:DATA/metadata.db`. */
  database: databaseUrl.optional(),
  /** PostgreSQL: most connections of this node. */
  databasePoolSize: integer(1, 1000).default(DEFAULTS.databasePoolSize),
  /** PostgreSQL: how long a query waits for a connection before answering 503. */
  databaseTimeoutMs: integer(100, 600_000).default(DEFAULTS.databaseTimeoutMs),
  /** PostgreSQL: deadline of each query (server statement_timeout too); then 503 and the connection is dropped. */
  databaseQueryTimeoutMs: integer(100, 3_600_000).default(DEFAULTS.databaseQueryTimeoutMs),
  /** PostgreSQL: schema of Cimmeria's tables (created by migrations). Default: the server's search_path. */
  databaseSchema: z
    .string()
    .regex(/^[A-Za-z_][A-Za-z0-9_$]{0,62}$/, { error: 'expected a PostgreSQL identifier such as "cimmeria"' })
    .optional(),
  /** Blob store. Default: `fs:DATA/blobs`. */
  storage: storageUrl.optional(),
  /** S3: multipart part size (memory per upload is about (queue + 1) x part). */
  storagePartSizeBytes: size(5 * 1024 ** 2).default(DEFAULTS.storagePartSizeBytes),
  /** S3: parts uploaded in parallel per file. */
  storageQueueSize: integer(1, 64).default(DEFAULTS.storageQueueSize),
  /** S3: deadline of each request without a streamed body (and of connecting); then 503. */
  storageTimeoutMs: integer(100, 600_000).default(DEFAULTS.storageTimeoutMs),
  /** S3: longest time without progress while a part upload or a download moves bytes; then 503 (or the download is cut). */
  storageIdleTimeoutMs: integer(100, 3_600_000).default(DEFAULTS.storageIdleTimeoutMs),
  /** `redirect`: downloads from S3 answer 302 to a presigned URL; `stream`: through this node. */
  downloads: z.enum(['redirect', 'stream'], { error: 'expected redirect or stream' }).default(DEFAULTS.downloads),
  /** Lifetime of presigned download URLs. */
  presignExpiresSeconds: integer(1, 604_800).default(DEFAULTS.presignExpiresSeconds),
  /** Liveness probe path (200 while the process answers). */
  healthPath: probePath.default(DEFAULTS.healthPath),
  /** Readiness probe path (200 when both stores answer and the node is not draining). */
  readyPath: probePath.default(DEFAULTS.readyPath),
  /** After SIGTERM/SIGINT: how long /readyz says 503 while still serving, so load balancers notice. */
  drainDelayMs: integer(0, 600_000).default(DEFAULTS.drainDelayMs),
  /** After the listener closes: how long requests in flight may take before they are cut off. */
  shutdownTimeoutMs: integer(0, 3_600_000).default(DEFAULTS.shutdownTimeoutMs),
  /** A connection must deliver a request's complete headers within this (silent and slowloris connections). */
  headersTimeoutMs: integer(100, 600_000).default(DEFAULTS.headersTimeoutMs),
  /** A connection moving no byte either way for this long is closed (0: never); slow but steady transfers are not cut. */
  connectionIdleTimeoutMs: integer(0, 3_600_000).default(DEFAULTS.connectionIdleTimeoutMs),
  /** How long a kept-alive connection waits for its next request. */
  keepAliveTimeoutMs: integer(100, 3_600_000).default(DEFAULTS.keepAliveTimeoutMs),
  /** Most connections open at once (0: no cap); at the cap, connections without a request yet make room. */
  maxConnections: integer(0, 1_000_000).default(DEFAULTS.maxConnections),
});

/** A validated configuration: what `startServer` runs with. */
export type CimmeriaConfig = z.output<typeof configSchema>;
/** A configuration as written in a file or passed to `loadConfig`: everything optional. */
export type CimmeriaConfigInput = z.input<typeof configSchema>;
