import { AsyncLocalStorage } from 'node:async_hooks';
import type pg from 'pg';
import {
  AbortedTransactionError,
  CompiledQuery,
  IdentifierNode,
  PostgresDialect,
  RawNode,
  createQueryId,
  type DatabaseConnection,
  type Driver,
  type QueryCompiler,
  type QueryResult,
  type TransactionSettings,
} from 'kysely';
import { MetadataUnavailableError, preparedStatementName } from '@cimmeria/core';
import type { PipelineLane } from './pipeline-lane.js';
import { keepsConnection, mapUnavailable, toMetadataError } from './unavailable.js';

/** Options of {@link PostgresMetadataDialect}. */
export interface PostgresMetadataDialectConfig {
  /** The pg pool (or a function returning it, called on first use). `db.destroy()` ends it. */
  pool: pg.Pool | (() => Promise<pg.Pool>);
  /**
   * Longest wait for the answer to one query, in ms; then the query fails
   * with `MetadataUnavailableError` (503) and its connection is destroyed,
   * never handed out again in an unknown state. Default: no deadline (pg's).
   * Protects against a silent network partition, where the socket stays
   * open and nothing comes back.
   */
  queryTimeoutMs?: number;
  /**
   * Whether the store's hot look-ups are prepared once per connection as
   * named statements (parsed and planned once; on a 2-core machine `latest`
   * went from 0.12 to 0.20 of a bare node:http server). Default true; false
   * for a pooler between the node and PostgreSQL that loses or pins on
   * prepared statements.
   */
  preparedStatements?: boolean;
  /**
   * Where the store's hot look-ups go instead of a pooled connection (see
   * {@link PipelineLane}). Only with `preparedStatements`.
   */
  pipeline?: PipelineLane;
}

/** Queries inside {@link withoutQueryDeadline} have no client-side deadline. */
const noDeadline = new AsyncLocalStorage<true>();

/**
 * Runs `work` with no client-side query deadline: for migrations, which may
 * wait for another node's advisory lock or build an index for longer than
 * a request would be allowed to.
 */
export function withoutQueryDeadline<T>(work: () => Promise<T>): Promise<T> {
  return noDeadline.run(true, work);
}

/**
 * Kysely's {@link PostgresDialect} with a driver of our own, for the two
 * things a server on a network needs from its database calls:
 *
 * - Errors meaning "database unreachable" (refused or reset connections,
 *   server shutdown, connection and query timeouts) come out as the core's
 *   `MetadataUnavailableError`, which the HTTP edge answers with 503 and
 *   `Retry-After`.
 * - Every query has a deadline (`queryTimeoutMs`). A connection whose query
 *   failed that way is destroyed when released, and a transaction on it is
 *   not rolled back over the dead socket (closing the connection ends the
 *   transaction on the server), so no request waits behind a hung one.
 *
 * Streaming queries (`.stream()`) are not supported; the store does not use them.
 *
 * @example
 * const db = new Kysely<Database>({ dialect: new PostgresMetadataDialect({ pool, queryTimeoutMs: 5000 }) });
 */
export class PostgresMetadataDialect extends PostgresDialect {
  readonly #config: PostgresMetadataDialectConfig;

  constructor(config: PostgresMetadataDialectConfig) {
    super({ pool: config.pool });
    this.#config = config;
  }

  override createDriver(): Driver {
    return new PostgresMetadataDriver(this.#config);
  }
}

class PostgresMetadataDriver implements Driver {
  readonly #config: PostgresMetadataDialectConfig;
  /** What every connection is given: built once, not per acquired connection. */
  readonly #connectionOptions: ConnectionOptions;
  #pool: pg.Pool | undefined;

  constructor(config: PostgresMetadataDialectConfig) {
    this.#config = config;
    const { preparedStatements = true, pipeline, queryTimeoutMs } = config;
    this.#connectionOptions = { preparedStatements, pipeline, queryTimeoutMs };
  }

  async init(): Promise<void> {
    const { pool } = this.#config;
    this.#pool = typeof pool === 'function' ? await mapUnavailable(pool) : pool;
  }

  async acquireConnection(): Promise<DatabaseConnection> {
    const pool = this.#pool;
    if (!pool) throw new Error('The PostgreSQL driver has been destroyed');
    return new PostgresMetadataConnection(pool, this.#connectionOptions);
  }

  async beginTransaction(connection: DatabaseConnection, settings: TransactionSettings): Promise<void> {
    let statement = 'begin';
    if (settings.isolationLevel || settings.accessMode) {
      statement = 'start transaction';
      if (settings.isolationLevel) statement += ` isolation level ${settings.isolationLevel}`;
      if (settings.accessMode) statement += ` ${settings.accessMode}`;
    }
    await connection.executeQuery(CompiledQuery.raw(statement));
  }

  async commitTransaction(connection: DatabaseConnection): Promise<void> {
    const { rows } = await connection.executeQuery<{ command?: string }>(CompiledQuery.raw('commit'));
    // PostgreSQL completes COMMIT with a ROLLBACK tag when an earlier error aborted the transaction.
    if (rows[0]?.command === 'ROLLBACK') throw new AbortedTransactionError();
  }

  async rollbackTransaction(connection: DatabaseConnection): Promise<void> {
    // A lost connection cannot carry a rollback; destroying it on release ends the transaction on the server.
    if ((connection as PostgresMetadataConnection).lost) return;
    await connection.executeQuery(CompiledQuery.raw('rollback'));
  }

  async savepoint(connection: DatabaseConnection, name: string, compile: QueryCompiler['compileQuery']): Promise<void> {
    await connection.executeQuery(compile(savepointCommand('savepoint', name), createQueryId()));
  }

  async rollbackToSavepoint(connection: DatabaseConnection, name: string, compile: QueryCompiler['compileQuery']): Promise<void> {
    await connection.executeQuery(compile(savepointCommand('rollback to', name), createQueryId()));
  }

  async releaseSavepoint(connection: DatabaseConnection, name: string, compile: QueryCompiler['compileQuery']): Promise<void> {
    await connection.executeQuery(compile(savepointCommand('release', name), createQueryId()));
  }

  async releaseConnection(connection: DatabaseConnection): Promise<void> {
    (connection as PostgresMetadataConnection).release();
  }

  async destroy(): Promise<void> {
    const pool = this.#pool;
    this.#pool = undefined;
    await this.#config.pipeline?.close();
    if (pool) await pool.end();
  }
}

function savepointCommand(command: string, name: string): RawNode {
  return RawNode.createWithChildren([RawNode.createWithSql(`${command} `), IdentifierNode.create(name)]);
}

interface ConnectionOptions {
  /** Off: no statement names, so no query goes to `pipeline` either. */
  preparedStatements: boolean;
  pipeline: PipelineLane | undefined;
  queryTimeoutMs: number | undefined;
}

/**
 * What Kysely holds as a connection: a pooled client, taken from the pool
 * on the first query that needs one. A hot look-up (a named statement) run
 * first goes to the pipeline lane instead and never takes one; `begin` and
 * every other query do, so a transaction stays on its own client.
 */
class PostgresMetadataConnection implements DatabaseConnection {
  readonly #pool: pg.Pool;
  readonly #options: ConnectionOptions;
  #client: pg.PoolClient | undefined;
  /** The error that left the client unusable (a timeout, a reset...), until it is released. */
  lost: Error | undefined;

  constructor(pool: pg.Pool, options: ConnectionOptions) {
    this.#pool = pool;
    this.#options = options;
  }

  async executeQuery<R>(compiledQuery: CompiledQuery): Promise<QueryResult<R>> {
    if (this.lost) throw toMetadataError(this.lost);
    const { preparedStatements, pipeline, queryTimeoutMs } = this.#options;
    const deadline = noDeadline.getStore() ? undefined : queryTimeoutMs;
    const name = preparedStatements ? preparedStatementName(compiledQuery) : undefined;
    // pg's per-query `query_timeout` (missing from @types/pg's QueryConfig).
    const query = { name, text: compiledQuery.sql, values: [...compiledQuery.parameters], query_timeout: deadline } as pg.QueryConfig;
    let result: pg.QueryResult;
    if (name !== undefined && pipeline && !this.#client) {
      result = await mapUnavailable(() => pipeline.query(query));
    } else {
      // pg-pool's connectionTimeoutMillis bounds this wait. Kysely runs the
      // queries of one connection one after the other: no second client.
      const client = (this.#client ??= await mapUnavailable(() => this.#pool.connect()));
      try {
        result = await client.query(query);
      } catch (error) {
        const mapped = toMetadataError(error);
        if (mapped instanceof MetadataUnavailableError && !keepsConnection(error)) this.lost = error as Error;
        throw mapped;
      }
    }
    const { command, rowCount, rows } = result;
    if (command === 'ROLLBACK' || command === 'COMMIT') return { rows: [{ command } as R] };
    const counts = command === 'INSERT' || command === 'UPDATE' || command === 'DELETE' || command === 'MERGE';
    return { ...(counts ? { numAffectedRows: BigInt(rowCount ?? 0) } : {}), rows: (rows ?? []) as R[] };
  }

  // eslint-disable-next-line require-yield
  async *streamQuery<R>(): AsyncIterableIterator<QueryResult<R>> {
    throw new Error('Streaming queries are not supported by PostgresMetadataDialect');
  }

  /** Back to the pool, or destroyed (pg-pool ends a client released with an error) when it was lost. */
  release(): void {
    const client = this.#client;
    const lost = this.lost;
    this.#client = undefined;
    this.lost = undefined;
    client?.release(lost ?? undefined);
  }
}
