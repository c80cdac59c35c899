import { closeSync, mkdirSync, openSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { Kysely, SqliteDialect } from 'kysely';
import { KyselyMetadataStore, type Database as Schema } from '@cimmeria/core';
import { withBusyAsUnavailable } from './busy.js';
import { assertSupportedNode } from './node-version.js';
import { withStatementCache } from './statement-cache.js';

/** Options of {@link createSqliteMetadataStore}. */
export interface SqliteMetadataOptions {
  /**
   * Database file path, or `:memory:`. A missing directory is created 0700,
   * as the fs blob store creates its own. A new file is created 0600 (it
   * holds password hashes), and SQLite gives its `-wal` and `-shm` files the
   * same mode; an existing file or directory keeps its mode.
   */
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
 * Call `store.migrate()` before use. Throws on a Node.js older than 22,
 * where better-sqlite3 would crash the process.
 */
export function createSqliteMetadataStore(options: SqliteMetadataOptions): SqliteMetadata {
  assertSupportedNode();
  createPrivately(options.filename);
  const sqlite = new Database(options.filename);
  sqlite.pragma('journal_mode = WAL');
  sqlite.pragma('synchronous = NORMAL');
  sqlite.pragma(`busy_timeout = ${Math.max(0, Math.trunc(options.busyTimeoutMs ?? 5000))}`);
  sqlite.pragma('foreign_keys = ON');
  const db = new Kysely<Schema>({ dialect: new SqliteDialect({ database: withBusyAsUnavailable(withStatementCache(sqlite)) }) });
  return { store: new KyselyMetadataStore(db), db, close: () => db.destroy() };
}

/**
 * Creates the database file 0600 if it does not exist yet (SQLite would
 * create it 0644 under the usual umask), leaving an existing file as it is,
 * and its directory 0700 if missing (SQLite would refuse to open it).
 * In-memory and temporary databases (`:memory:`, `''`) have no file.
 */
function createPrivately(filename: string): void {
  if (filename === '' || filename === ':memory:' || filename.startsWith('file:')) return;
  mkdirSync(dirname(filename), { recursive: true, mode: 0o700 });
  let fd: number;
  try {
    fd = openSync(filename, 'wx', 0o600);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    // EEXIST: there already, its mode is its operator's (the CLI warns when others can read it).
    if (code === 'EEXIST') return;
    throw error;
  }
  closeSync(fd);
}
