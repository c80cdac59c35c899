import pg from 'pg';
import { Kysely, type KyselyConfig } from 'kysely';
import type { Database } from '@cimmeria/core';
import { PostgresMetadataDialect } from './dialect.js';
import { PipelineLane } from './pipeline-lane.js';

/** Default of {@link PostgresConnectOptions.queryTimeoutMs}. */
export const DEFAULT_QUERY_TIMEOUT_MS = 5_000;
/**
 * How much longer than the server's `statement_timeout` the node waits for
 * an answer: a server that is slow but reachable cancels the statement
 * itself and the connection stays usable; only a silent network makes the
 * node give up and destroy the connection.
 */
const CLIENT_GRACE_MS = 500;
/** TCP keepalive probes start after this much idleness (the OS default is two hours). */
const KEEPALIVE_DELAY_MS = 10_000;
import { PostgresMetadataStore } from './postgres-store.js';

/** Pool sizing and timeouts, as pg names them. */
export interface PostgresPoolSizing {
  /** Most connections this node opens. Default 10. */
  max?: number;
  /** Idle connections close after this long, in ms. Default 30000. */
  idleTimeoutMillis?: number;
  /**
   * How long a query waits for a connection (a new one, or a free one when
   * all are busy) before failing as unavailable, in ms. Default 5000; pg's
   * own default is to wait forever, which turns an outage into hung requests.
   */
  connectionTimeoutMillis?: number;
}

interface CommonOptions {
  /**
   * Called when an idle pooled connection fails (server restart, network
   * cut). The pool has already dropped it and reconnects on demand; without
   * a listener such an error would crash the process. Default: ignore.
   */
  onPoolError?: (error: Error) => void;
  /** Kysely's query log, e.g. to time or print queries. */
  log?: KyselyConfig['log'];
  /**
   * Deadline of each query, in ms. Default 5000; 0 turns it off. A query
   * without an answer by then fails with `MetadataUnavailableError` (HTTP
   * 503 with Retry-After) instead of hanging for as long as a network
   * partition lasts, and its connection is destroyed rather than reused.
   * With a pool this function makes, the server is also told to cancel
   * statements running longer (`statement_timeout`) and to end sessions left
   * idle inside a transaction that long (`idle_in_transaction_session_timeout`),
   * so a node cut off mid-transaction does not hold locks; the node itself
   * gives up half a second after the server would have. Migrations
   * (`store.migrate()`) run without it: they may wait for another node's lock.
   */
  queryTimeoutMs?: number;
  /**
   * Whether the look-ups every client makes (`latest`, a file, a token) are
   * prepared once per connection as named statements; with a pool this
   * function makes, they also share one extra connection in pipeline mode
   * rather than each taking a pooled one. Default true. Set false behind a
   * pooler between the node and PostgreSQL that loses or pins on prepared
   * statements: every query is then unnamed, on a pooled connection.
   */
  preparedStatements?: boolean;
}

/** Connect from a URL or settings: the CLI's way. */
export interface PostgresConnectOptions extends CommonOptions {
  /** `postgres://user:password@host:5432/database?sslmode=...` */
  connectionString?: string;
  /** Other pg connection settings (host, port, user, password, database, ssl, ...). */
  connection?: Omit<
    pg.PoolConfig,
    'connectionString' | 'max' | 'idleTimeoutMillis' | 'connectionTimeoutMillis' | 'application_name'
  >;
  pool?: PostgresPoolSizing;
  /**
   * Schema holding Cimmeria's tables: set as the connections' `search_path`
   * and created by `migrate()` if missing. Default: the server's
   * `search_path` (usually `public`).
   */
  schema?: string;
  /** `application_name` of the connections, shown in `pg_stat_activity`. Default `cimmeria`. */
  applicationName?: string;
}

/** Use a pool the host made: the host configures and ends it. */
export interface PostgresPoolOptions extends CommonOptions {
  pool: pg.Pool;
}

export type PostgresMetadataOptions = PostgresConnectOptions | PostgresPoolOptions;

/** A PostgreSQL-backed metadata store and what it is made of. */
export interface PostgresMetadata {
  store: PostgresMetadataStore;
  db: Kysely<Database>;
  pool: pg.Pool;
  /** The pool's connections now: all open, idle, and queries waiting for one (for metrics). */
  poolUsage(): { total: number; idle: number; waiting: number };
  /** Ends the pool if this function made it; an injected pool is left to its owner. */
  close(): Promise<void>;
}

const SCHEMA_NAME = /^[A-Za-z_][A-Za-z0-9_$]{0,62}$/;

function isPool(value: unknown): value is pg.Pool {
  return typeof (value as pg.Pool | undefined)?.connect === 'function';
}

/**
 * Opens a PostgreSQL metadata store: a pg pool (or the host's), Kysely on
 * {@link PostgresMetadataDialect} and the core's store with the database
 * clock. Call `store.migrate()` before use; `close()` at shutdown.
 *
 * An unreachable database makes store calls throw `MetadataUnavailableError`
 * (HTTP 503 with Retry-After) within `pool.connectionTimeoutMillis` (no
 * connection) or `queryTimeoutMs` (no answer); the pool drops broken
 * connections and opens fresh ones once the server answers again, without
 * a restart.
 */
export function createPostgresMetadataStore(options: PostgresMetadataOptions): PostgresMetadata {
  const injected = isPool(options.pool);
  const queryTimeout = options.queryTimeoutMs ?? DEFAULT_QUERY_TIMEOUT_MS;
  if (!Number.isInteger(queryTimeout) || queryTimeout < 0) {
    throw new RangeError('queryTimeoutMs must be a non-negative integer (0 turns the deadline off)');
  }
  const preparedStatements = options.preparedStatements ?? true;
  let pool: pg.Pool;
  let schema: string | undefined;
  let pipeline: PipelineLane | undefined;
  if (isPool(options.pool)) {
    pool = options.pool;
  } else {
    const connect = options as PostgresConnectOptions;
    schema = connect.schema;
    if (schema !== undefined && !SCHEMA_NAME.test(schema)) {
      throw new TypeError(`Invalid PostgreSQL schema name: ${schema}`);
    }
    const searchPath = schema === undefined ? [] : [`-c search_path="${schema}"`];
    const extraOptions = connect.connection?.options ? [connect.connection.options] : [];
    const startupOptions = [...extraOptions, ...searchPath].join(' ');
    const serverTimeouts =
      queryTimeout > 0 ? { statement_timeout: queryTimeout, idle_in_transaction_session_timeout: queryTimeout } : {};
    const client: pg.ClientConfig = {
      keepAlive: true,
      keepAliveInitialDelayMillis: KEEPALIVE_DELAY_MS,
      ...serverTimeouts,
      ...connect.connection,
      ...(connect.connectionString === undefined ? {} : { connectionString: connect.connectionString }),
      ...(startupOptions === '' ? {} : { options: startupOptions }),
      application_name: connect.applicationName ?? 'cimmeria',
      connectionTimeoutMillis: connect.pool?.connectionTimeoutMillis ?? 5_000,
    };
    pool = new pg.Pool({
      ...client,
      max: connect.pool?.max ?? 10,
      idleTimeoutMillis: connect.pool?.idleTimeoutMillis ?? 30_000,
    });
    if (preparedStatements) {
      pipeline = new PipelineLane(() => new pg.Client({ ...client, pipeline: true }), options.onPoolError ?? ignore);
    }
  }
  const unguard = guardPool(pool, options.onPoolError);
  const db = new Kysely<Database>({
    dialect: new PostgresMetadataDialect({
      pool,
      ...(queryTimeout > 0 ? { queryTimeoutMs: queryTimeout + CLIENT_GRACE_MS } : {}),
      preparedStatements,
      ...(pipeline ? { pipeline } : {}),
    }),
    ...(options.log === undefined ? {} : { log: options.log }),
  });
  const store = new PostgresMetadataStore(db, schema === undefined ? {} : { schema });
  let closed: Promise<void> | undefined;
  return {
    store,
    db,
    pool,
    poolUsage: () => ({ total: pool.totalCount, idle: pool.idleCount, waiting: pool.waitingCount }),
    close() {
      // Our pool keeps its listeners: a client failing while the pool ends must not crash either.
      closed ??= injected ? Promise.resolve(unguard()) : db.destroy();
      return closed;
    },
  };
}

const ignore = () => {};

/**
 * Keeps connection errors of a pool from crashing the process: pg emits
 * `error` on the pool for idle clients, and on a checked-out client between
 * two queries, where nobody listens. Either way pg marks the client broken
 * and the pool replaces it. Returns a function that removes the listeners.
 */
export function guardPool(pool: pg.Pool, onPoolError: (error: Error) => void = ignore): () => void {
  const onClientError = ignore;
  const onConnect = (client: pg.PoolClient) => client.on('error', onClientError);
  pool.on('error', onPoolError);
  pool.on('connect', onConnect);
  return () => {
    pool.off('error', onPoolError);
    pool.off('connect', onConnect);
  };
}
