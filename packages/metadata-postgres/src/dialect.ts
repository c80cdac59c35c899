import {
  PostgresDialect,
  type CompiledQuery,
  type DatabaseConnection,
  type Driver,
  type QueryResult,
  type TransactionSettings,
} from 'kysely';
import { mapUnavailable, toMetadataError } from './unavailable.js';

type Abortable = Parameters<Driver['init']>[0];
type CompileQuery = Parameters<NonNullable<Driver['savepoint']>>[2];

/**
 * Kysely's {@link PostgresDialect}, except that errors meaning "database
 * unreachable" (refused or reset connections, server shutdown, connection
 * timeouts) come out as the core's `MetadataUnavailableError`, which the
 * HTTP edge answers with 503 and `Retry-After`. Everything else is Kysely's
 * own driver: the pool, transactions, releasing broken clients.
 *
 * @example
 * const db = new Kysely<Database>({ dialect: new PostgresMetadataDialect({ pool }) });
 */
export class PostgresMetadataDialect extends PostgresDialect {
  override createDriver(): Driver {
    return new UnavailableMappingDriver(super.createDriver());
  }
}

/** Wraps a driver and its connections so every database call maps its errors. */
class UnavailableMappingDriver implements Driver {
  readonly #inner: Driver;
  /** Our connection -> the inner driver's, which its own methods expect back. */
  readonly #inners = new WeakMap<DatabaseConnection, DatabaseConnection>();
  /** The inner driver's connection -> ours, so a pooled client keeps one identity. */
  readonly #wrappers = new WeakMap<DatabaseConnection, DatabaseConnection>();

  constructor(inner: Driver) {
    this.#inner = inner;
  }

  init(options?: Abortable): Promise<void> {
    return mapUnavailable(() => this.#inner.init(options));
  }

  async acquireConnection(options?: Abortable): Promise<DatabaseConnection> {
    const inner = await mapUnavailable(() => this.#inner.acquireConnection(options));
    let wrapper = this.#wrappers.get(inner);
    if (!wrapper) {
      wrapper = wrapConnection(inner);
      this.#wrappers.set(inner, wrapper);
      this.#inners.set(wrapper, inner);
    }
    return wrapper;
  }

  beginTransaction(connection: DatabaseConnection, settings: TransactionSettings): Promise<void> {
    return mapUnavailable(() => this.#inner.beginTransaction(this.#unwrap(connection), settings));
  }

  commitTransaction(connection: DatabaseConnection): Promise<void> {
    return mapUnavailable(() => this.#inner.commitTransaction(this.#unwrap(connection)));
  }

  rollbackTransaction(connection: DatabaseConnection): Promise<void> {
    return mapUnavailable(() => this.#inner.rollbackTransaction(this.#unwrap(connection)));
  }

  savepoint(connection: DatabaseConnection, name: string, compile: CompileQuery): Promise<void> {
    return mapUnavailable(() => this.#inner.savepoint!(this.#unwrap(connection), name, compile));
  }

  rollbackToSavepoint(connection: DatabaseConnection, name: string, compile: CompileQuery): Promise<void> {
    return mapUnavailable(() => this.#inner.rollbackToSavepoint!(this.#unwrap(connection), name, compile));
  }

  releaseSavepoint(connection: DatabaseConnection, name: string, compile: CompileQuery): Promise<void> {
    return mapUnavailable(() => this.#inner.releaseSavepoint!(this.#unwrap(connection), name, compile));
  }

  releaseConnection(connection: DatabaseConnection, options?: Abortable): Promise<void> {
    return this.#inner.releaseConnection(this.#unwrap(connection), options);
  }

  destroy(options?: Abortable): Promise<void> {
    return this.#inner.destroy(options);
  }

  #unwrap(connection: DatabaseConnection): DatabaseConnection {
    return this.#inners.get(connection) ?? connection;
  }
}

function wrapConnection(inner: DatabaseConnection): DatabaseConnection {
  const connection: DatabaseConnection = {
    executeQuery<R>(query: CompiledQuery, options?: Abortable): Promise<QueryResult<R>> {
      return mapUnavailable(() => inner.executeQuery<R>(query, options));
    },
    async *streamQuery<R>(query: CompiledQuery, chunkSize: number, options?: Abortable) {
      try {
        yield* inner.streamQuery<R>(query, chunkSize, options);
      } catch (error) {
        throw toMetadataError(error);
      }
    },
  };
  if (inner.cancelQuery) connection.cancelQuery = (provider) => inner.cancelQuery!(provider);
  if (inner.killSession) connection.killSession = (provider) => inner.killSession!(provider);
  if (inner.collectSessionInfo) connection.collectSessionInfo = () => mapUnavailable(() => inner.collectSessionInfo!());
  return connection;
}
