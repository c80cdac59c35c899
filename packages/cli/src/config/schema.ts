import { availableParallelism } from 'node:os';
import { z } from 'zod';
import { DEFAULT_MAX_TEXT_FILE_BYTES, DEFAULT_MAX_UPLOAD_BYTES, LOGIN_PROTECTION_DEFAULTS } from '@cimmeria/core/defaults';

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
  maxTextFileBytes: DEFAULT_MAX_TEXT_FILE_BYTES,
  reuploadMakesLatest: false,
  auditRetentionDays: 365,
  logLevel: 'info',
  databasePoolSize: 10,
  databaseTimeoutMs: 5000,
  databaseQueryTimeoutMs: 5000,
  databasePreparedStatements: true,
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
  checksumDeploy: true,
  conan1V1Mode: true,
  ignoreConanServerPlugins: false,
  ...LOGIN_PROTECTION_DEFAULTS,
  trustProxy: 0,
  metrics: true,
  metricsPath: '/metrics',
  ui: true,
  ldapTimeoutMs: 5000,
} as const;

/** Longest user name. */
export const USER_NAME_MAX_LENGTH = 64;

/**
 * Why `name` cannot be a user, or `undefined` when it can. conan_server takes
 * any `[users]` key (`super admin` included); refused are only the names no
 * client could log in with, or no permission rule could name.
 */
export function userNameProblem(name: string): string | undefined {
  if (name === '') return 'is empty';
  if (name.length > USER_NAME_MAX_LENGTH) return `is longer than ${USER_NAME_MAX_LENGTH} characters`;
  if (name.includes(':')) return "contains ':', where HTTP Basic authentication splits user from password: it could never log in";
  if (name.includes(',')) return "contains ',', which separates users in permission rules: no rule could name it";
  if (name !== name.trim()) return 'starts or ends with a blank, which permission rules and server.conf drop: no rule could name it';
  if (name === '*') return "is '*', which means anyone in permission rules";
  if (name === '?') return "is '?', which means any logged-in user in permission rules";
  // The Conan client sends Basic credentials in Latin-1, others in UTF-8: only ASCII reads the same from all.
  if (!/^[\x20-\x7e]+$/.test(name)) {
    return 'has characters other than printable ASCII: the Conan client sends user names in Latin-1, not UTF-8, so it could not log in';
  }
  return undefined;
}

// Environment variables and flags are strings: accept "9300" where a number is expected.
const fromDigits = (value: unknown) => (typeof value === 'string' && /^\s*\d+\s*$/.test(value) ? Number(value) : value);

// Decimal numbers in strings too: "0.02" (conan_server's jwt_expire_minutes is a float).
const fromDecimal = (value: unknown) =>
  typeof value === 'string' && /^\s*(\d+(\.\d*)?|\.\d+)\s*$/.test(value) ? Number(value) : value;

const BOOLEAN_TEXT: Record<string, boolean> = { true: true, false: false, '1': true, '0': false };

/** `true`/`false`, also as the strings environment variables carry (`true`, `false`, `1`, `0`). */
function boolean() {
  const error = 'expected true or false';
  return z.preprocess(
    (value) => (typeof value === 'string' ? (BOOLEAN_TEXT[value.trim().toLowerCase()] ?? value) : value),
    z.boolean({ error }),
  );
}

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

const MINUTES_ERROR = 'expected a number of minutes above 0 and at most 525600, fractions allowed (such as 0.5)';

const ldapText = (what: string) => z.string({ error: `expected ${what}` }).min(1, { error: `expected ${what}` });

/** `ldap`: users log in against a directory after static and database users (see @cimmeria/auth-ldap). */
const ldapSettings = z
  .strictObject(
    {
      url: z
        .string({ error: 'expected ldap://HOST[:PORT] or ldaps://HOST[:PORT]' })
        .regex(/^ldaps?:\/\/[^\s/]+\/?$/i, { error: 'expected ldap://HOST[:PORT] or ldaps://HOST[:PORT]' }),
      bindDn: ldapText('a DN: a template with {user}, or the service account of a search').optional(),
      bindPassword: z.string({ error: 'expected the service account password' }).optional(),
      searchBase: ldapText('a DN to search users under').optional(),
      searchFilter: ldapText('an LDAP filter with {user}, such as (uid={user})')
        .refine((f) => f.includes('{user}'), { error: 'expected an LDAP filter with {user}, such as (uid={user})' })
        .optional(),
      startTls: boolean().default(false),
      tlsCaFile: ldapText('a PEM file of CA certificates').optional(),
      tlsRejectUnauthorized: boolean().default(true),
      timeoutMs: integer(100, 600_000).default(DEFAULTS.ldapTimeoutMs),
      groups: z
        .strictObject({
          searchBase: ldapText('a DN to search groups under'),
          searchFilter: ldapText('an LDAP filter with {dn} or {user}').optional(),
          map: z.record(
            z.string(),
            z.preprocess(
              (value) => (typeof value === 'string' ? [value] : value),
              z.array(z.string().regex(/^@[\x21-\x2b\x2d-\x7e]+$/, { error: "expected names starting with '@', such as @conan-writers" })),
            ),
            { error: 'expected a map of group DN or cn -> @name(s) that permission rules list' },
          ),
        })
        .optional(),
    },
    { error: 'expected an object with url and either bindDn (with {user}) or searchBase' },
  )
  .superRefine((ldap, ctx) => {
    if (ldap.searchBase === undefined && !ldap.bindDn?.includes('{user}')) {
      ctx.addIssue({ code: 'custom', path: ['bindDn'], message: 'expected a bind DN template with {user}, or set searchBase (+ searchFilter)' });
    }
    if (ldap.searchBase !== undefined && ldap.bindDn !== undefined && !ldap.bindPassword) {
      ctx.addIssue({ code: 'custom', path: ['bindPassword'], message: 'expected the password of the service account bindDn' });
    }
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
  /** Session token lifetime; fractions allowed (conan_server's `jwt_expire_minutes: 0.02` is 1.2 s), rounded to whole seconds, at least 1. */
  tokenExpiresMinutes: z
    .preprocess(fromDecimal, z.number({ error: MINUTES_ERROR }).gt(0, { error: MINUTES_ERROR }).max(525_600, { error: MINUTES_ERROR }))
    .default(DEFAULTS.tokenExpiresMinutes),
  maxUploadBytes: z
    .preprocess(fromSize, z.number({ error: sizeError }).int({ error: sizeError }).positive({ error: sizeError }))
    .default(DEFAULTS.maxUploadBytes),
  /** Largest conaninfo.txt and conanmanifest.txt: the files the server itself reads (413 above). */
  maxTextFileBytes: size().default(DEFAULTS.maxTextFileBytes),
  /** `conan upload --force` of a published revision makes it the latest again (Conan expects it to keep its place). */
  reuploadMakesLatest: boolean().default(DEFAULTS.reuploadMakesLatest),
  /** Audit events older than this many days are removed by `cimmeria gc`. */
  auditRetentionDays: integer(1, 36_500).default(DEFAULTS.auditRetentionDays),
  users: z
    .record(
      z.string(),
      z.string({ error: 'expected a scrypt hash (make one with `cimmeria hash-password`)' }).regex(/^scrypt\$/, {
        error: 'expected a scrypt hash (make one with `cimmeria hash-password`), not a plaintext password',
      }),
      { error: 'expected a map of user name -> scrypt hash' },
    )
    // Checked here rather than as the record's key schema, so each message names its user.
    .superRefine((users, ctx) => {
      for (const name of Object.keys(users)) {
        const problem = userNameProblem(name);
        if (problem) ctx.addIssue({ code: 'custom', path: [name], message: `user name '${name}' ${problem}` });
      }
    })
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
  /**
   * PostgreSQL: the hot look-ups as named statements, pipelined on one extra
   * connection; false: unnamed, on pooled connections (for a pooler that
   * loses or pins on prepared statements).
   */
  databasePreparedStatements: boolean().default(DEFAULTS.databasePreparedStatements),
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
  /**
   * Checksum deploy (advertised `checksum_deploy`): clients skip sending bytes
   * the server already has. Off, every upload sends its bytes; for networks
   * where the client's unretried checksum probe fails (Conan 2.9).
   */
  checksumDeploy: boolean().default(DEFAULTS.checksumDeploy),
  /**
   * Serve Conan 1 clients in their default mode (no revisions: the v1
   * protocol). Off, ping advertises `only_v2` and those clients tell their
   * user to set CONAN_REVISIONS_ENABLED=1.
   */
  conan1V1Mode: boolean().default(DEFAULTS.conan1V1Mode),
  /** Absolute URL clients reach the API at, for the file URLs of Conan 1 clients (default: from each request). */
  conan1PublicUrl: z.url({ protocol: /^https?$/, error: 'expected an http(s) URL, e.g. https://conan.example.com' }).optional(),
  /**
   * Start although the conan_server conf names `custom_authenticator` or
   * `custom_authorizer` (plugins Cimmeria cannot run), with a warning.
   */
  ignoreConanServerPlugins: boolean().default(DEFAULTS.ignoreConanServerPlugins),
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
  /**
   * `cimmeria serve`: processes serving the port (node:cluster), each a
   * stateless node. Default: the number of cores; `1` keeps one process.
   */
  workers: integer(1, 256).default(() => availableParallelism()),
  /** Password checks (scrypt, on libuv's pool shared with file I/O) running at once on this node. */
  maxConcurrentPasswordChecks: integer(1, 64).default(DEFAULTS.maxConcurrentPasswordChecks),
  /** Password checks waiting for a slot; past that, logins get 503 with Retry-After at once. */
  passwordCheckQueueSize: integer(0, 10_000).default(DEFAULTS.passwordCheckQueueSize),
  /** Failed logins of one user within a window before 429 (per node; 0 turns it off). */
  loginFailuresPerUser: integer(0, 1_000_000).default(DEFAULTS.loginFailuresPerUser),
  /** Failed logins from one client address within a window before 429 (per node; 0 turns it off). */
  loginFailuresPerAddress: integer(0, 1_000_000).default(DEFAULTS.loginFailuresPerAddress),
  /** Length of the failed-login windows; a throttled user or address waits at most this long. */
  loginThrottleWindowSeconds: integer(1, 86_400).default(DEFAULTS.loginThrottleWindowSeconds),
  /** How stale a node's view of a user's credentials may be: revoked tokens stop working within this. */
  credentialCacheSeconds: integer(0, 300).default(DEFAULTS.credentialCacheSeconds),
  /** Reverse proxies in front that append to X-Forwarded-For: the client address is read that many hops back. */
  trustProxy: integer(0, 16).default(DEFAULTS.trustProxy),
  /** Serve Prometheus metrics at `metricsPath`. */
  metrics: boolean().default(DEFAULTS.metrics),
  /** Path of the Prometheus metrics. */
  metricsPath: probePath.default(DEFAULTS.metricsPath),
  /**
   * When set, `metricsPath` answers 401 unless the scraper sends it, as a
   * Bearer token or as the password of HTTP Basic (any user name).
   */
  metricsToken: z
    .string({ error: 'expected a string of at least 16 characters' })
    .min(16, { error: 'expected a string of at least 16 characters' })
    .optional(),
  /** Serve the web UI at `/ui/` (and redirect a browser's `GET /` there). */
  ui: boolean().default(DEFAULTS.ui),
  /** Log users in against an LDAP directory too (after static and database users). */
  ldap: ldapSettings.optional(),
});

/** A validated configuration: what `startServer` runs with. */
export type CimmeriaConfig = z.output<typeof configSchema>;
/** A configuration as written in a file or passed to `loadConfig`: everything optional. */
export type CimmeriaConfigInput = z.input<typeof configSchema>;
