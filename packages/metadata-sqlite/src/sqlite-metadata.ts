import Database from 'better-sqlite3';
import { Kysely, SqliteDialect } from 'kysely';
import { KyselyMetadataStore, type Database as Schema } from '@cimmeria/core';
import { withBusyAsUnavailable } from './busy.js';
import { withStatementCache } from './statement-cache.js';

/** Options of {@link createSqliteMetadataStore}. */
export interface SqliteMetadataOptions {
  /** Database file path, or `:memory:`. Its directory must exist. */
  filename: string;
  /**
   * How long a writer waits for a lock held by another process, in ms;
   * then the call fails with `MetadataUnavailableError` (HTTP 503 with
   * Retry-After). Default 5000. better-sqlite3 waits synchronously: the
   * event loop is blocked meanwhile, so keep it short.
   */
  busyTimeoutMs?: number;
}

/** A SQLite-backed metadata store and the handle that closes it. */
export interface SqliteMetadata {
  store: KyselyMetadataStore;
  db: Kysely<Schema>;
  close(): Promise<void>;
}

/**
 * Opens (creating if needed) a SQLite database in WAL mode, so readers
 * never wait for the writer, and wraps it in the core's Kysely store.
 * Call `store.migrate()` before use.
 */
export function createSqliteMetadataStore(options: SqliteMetadataOptions): SqliteMetadata {
  const sqlite = new Database(options.filename);
  sqlite.pragma('journal_mode = WAL');
  sqlite.pragma('synchronous = NORMAL');
  sqlite.pragma(`busy_timeout = ${Math.max(0, Math.trunc(options.busyTimeoutMs ?? 5000))}`);
  sqlite.pragma('foreign_keys = ON');
  const db = new Kysely<Schema>({ dialect: new SqliteDialect({ database: withBusyAsUnavailable(withStatementCache(sqlite)) }) });
  return { store: new KyselyMetadataStore(db), db, close: () => db.destroy() };
}
