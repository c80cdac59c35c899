import { MetadataUnavailableError } from '@cimmeria/core';

/**
 * SQLSTATEs that mean "the database cannot serve us right now", as opposed
 * to "this query is wrong". Class 08 (connection exception) is matched as a
 * whole.
 */
const UNAVAILABLE_SQLSTATES = new Set([
  '57P01', // admin_shutdown: the server is shutting down or our backend was terminated
  '57P02', // crash_shutdown
  '57P03', // cannot_connect_now: starting up, shutting down, in recovery
  '53300', // too_many_connections: no slot right now, retrying later helps
  '25P03', // idle_in_transaction_session_timeout: the server ended a session that went silent mid-transaction
  '57014', // query_canceled: statement_timeout fired (or an operator cancelled the query); the connection stays usable
]);

const QUERY_CANCELED = '57014';

/** Socket and DNS errors of Node while reaching the server. */
const UNAVAILABLE_SYSTEM_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'EHOSTDOWN',
  'ENETUNREACH',
  'ENETDOWN',
  'ENOTFOUND',
  'EAI_AGAIN',
  // A Unix socket path that is missing: the server is not running.
  'ENOENT',
]);

/** Messages of pg, pg-pool and Kysely's Postgres driver that carry no code. */
const UNAVAILABLE_MESSAGES = [
  'Connection terminated unexpectedly', // pg: the socket closed under a query
  'Connection terminated', // pg: a client ended while a query waited
  'Connection terminated due to connection timeout', // pg-pool: connectionTimeoutMillis while connecting
  'timeout exceeded when trying to connect', // pg-pool: connectionTimeoutMillis waiting for a client
  'timeout expired', // pg: connectionTimeoutMillis of a bare client
  'Client has encountered a connection error and is not queryable', // pg: a query on a broken client
  'Client was closed and is not queryable',
  'Postgres connection has been discarded', // Kysely: a connection whose rollback failed
  'Cannot use a pool after calling end on the pool', // the node is shutting down
  'Query read timeout', // pg: query_timeout, no answer in time (a silent network, a stuck server)
];

/**
 * Whether an error thrown by pg (or Kysely's Postgres driver) means the
 * database is unreachable rather than the query being wrong: refused or
 * reset connections, server shutdown or restart, connection timeouts.
 * Follows `cause` chains and `AggregateError`s (dual-stack connects).
 */
export function isPostgresUnavailable(error: unknown, depth = 0): boolean {
  if (depth > 5 || typeof error !== 'object' || error === null) return false;
  const { code, message, cause, errors } = error as {
    code?: unknown;
    message?: unknown;
    cause?: unknown;
    errors?: unknown;
  };
  if (typeof code === 'string') {
    if (code.startsWith('08') && code.length === 5) return true;
    if (UNAVAILABLE_SQLSTATES.has(code) || UNAVAILABLE_SYSTEM_CODES.has(code)) return true;
  }
  if (typeof message === 'string' && UNAVAILABLE_MESSAGES.includes(message)) return true;
  if (Array.isArray(errors) && errors.some((e) => isPostgresUnavailable(e, depth + 1))) return true;
  return cause !== undefined && isPostgresUnavailable(cause, depth + 1);
}

/**
 * Whether the connection that got `error` from a query is still in a known
 * state: the server answered and cancelled the statement (its
 * `statement_timeout`). Any other "unavailable" error (a client-side
 * timeout, a reset) leaves it unusable.
 */
export function keepsConnection(error: unknown): boolean {
  return (error as { code?: unknown } | null)?.code === QUERY_CANCELED;
}

/** `error` as a {@link MetadataUnavailableError} when it means the database is unreachable, else as is. */
export function toMetadataError(error: unknown): unknown {
  if (error instanceof MetadataUnavailableError || !isPostgresUnavailable(error)) return error;
  const detail = error instanceof Error ? error.message : String(error);
  return new MetadataUnavailableError(`PostgreSQL is unavailable: ${detail}`, { cause: error });
}

/** Runs `operation`, turning "database unreachable" errors into {@link MetadataUnavailableError}. */
export async function mapUnavailable<T>(operation: () => Promise<T>): Promise<T> {
  try {
    return await operation();
  } catch (error) {
    throw toMetadataError(error);
  }
}
