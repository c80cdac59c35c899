import type { SqliteDatabase, SqliteStatement } from 'kysely';
import { MetadataUnavailableError } from '@cimmeria/core';

/** Whether `error` is SQLite's "the database is locked" (by another connection or process), once busy_timeout ran out. */
export function isSqliteBusy(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED'));
}

function mapBusy<T>(operation: () => T): T {
  try {
    return operation();
  } catch (error) {
    if (!isSqliteBusy(error)) throw error;
    // Another process (`cimmeria gc`, `user add`, a second server on the same file) held the
    // write lock for all of busy_timeout: a 503 the client retries, not a 500.
    throw new MetadataUnavailableError('SQLite database is locked by another process', { cause: error });
  }
}

class BusyMappedStatement implements SqliteStatement {
  readonly #inner: SqliteStatement;

  constructor(inner: SqliteStatement) {
    this.#inner = inner;
  }

  get reader(): boolean {
    return this.#inner.reader;
  }

  all(parameters: ReadonlyArray<unknown>): unknown[] {
    return mapBusy(() => this.#inner.all(parameters));
  }

  run(parameters: ReadonlyArray<unknown>): { changes: number | bigint; lastInsertRowid: number | bigint } {
    return mapBusy(() => this.#inner.run(parameters));
  }

  iterate(parameters: ReadonlyArray<unknown>): IterableIterator<unknown> {
    return mapBusy(() => this.#inner.iterate(parameters));
  }
}

/**
 * `db` whose statements throw the core's `MetadataUnavailableError` (HTTP
 * 503 with Retry-After) when the database stays locked for longer than its
 * `busy_timeout`.
 */
export function withBusyAsUnavailable(db: SqliteDatabase): SqliteDatabase {
  return {
    close: () => db.close(),
    prepare: (sql: string) => new BusyMappedStatement(mapBusy(() => db.prepare(sql))),
  };
}
