import { dirname } from 'node:path';
import type { KyselyMetadataStore } from '@cimmeria/core';
import type { CimmeriaConfig } from '../config/schema.js';
import { makePrivateDir } from '../data-dir.js';
import { CommandError } from '../errors.js';
import { databaseUrlOf, redactUrl } from './locations.js';
import { importBackend } from './optional-backend.js';

/** An open metadata store and how to close it. */
export interface OpenedMetadata {
  store: KyselyMetadataStore;
  /** The database, for logs: passwords redacted. */
  description: string;
  /** Applies pending migrations; returns their names. Failures name the (redacted) database. */
  migrate(): Promise<string[]>;
  /** PostgreSQL: the pool's connections now (for metrics). */
  poolUsage?: () => { total: number; idle: number; waiting: number };
  close(): Promise<void>;
}

/** Options of {@link openMetadataStore}. */
export interface OpenMetadataOptions {
  /** Apply pending migrations (on PostgreSQL under an advisory lock, so nodes starting together migrate once). Default true. */
  migrate?: boolean;
  /** PostgreSQL: an idle pooled connection failed (the pool replaces it). */
  onPoolError?: (error: Error) => void;
}

/**
 * Opens the configured metadata database: SQLite (the file and its folder
 * are created) or PostgreSQL (a pool sized by `databasePoolSize`, each
 * query bounded by `databaseQueryTimeoutMs`). `@cimmeria/metadata-postgres`
 * (and `pg`) is loaded only when used.
 */
export async function openMetadataStore(
  config: Pick<
    CimmeriaConfig,
    'database' | 'data' | 'databasePoolSize' | 'databaseTimeoutMs' | 'databaseQueryTimeoutMs' | 'databasePreparedStatements' | 'databaseSchema'
  >,
  options: OpenMetadataOptions = {},
): Promise<OpenedMetadata> {
  const url = databaseUrlOf(config);
  const description = redactUrl(url);
  let opened: { store: KyselyMetadataStore; close(): Promise<void>; poolUsage?: OpenedMetadata['poolUsage'] };
  if (url.startsWith('sqlite:')) {
    const filename = url.slice('sqlite:'.length);
    await makePrivateDir(dirname(filename));
    const { createSqliteMetadataStore } = await import('@cimmeria/metadata-sqlite');
    opened = createSqliteMetadataStore({ filename });
  } else {
    const { createPostgresMetadataStore } = await importBackend(
      () => import('@cimmeria/metadata-postgres'),
      '@cimmeria/metadata-postgres',
      'a postgres:// database',
    );
    opened = createPostgresMetadataStore({
      connectionString: url,
      pool: { max: config.databasePoolSize, connectionTimeoutMillis: config.databaseTimeoutMs },
      queryTimeoutMs: config.databaseQueryTimeoutMs,
      preparedStatements: config.databasePreparedStatements,
      ...(config.databaseSchema === undefined ? {} : { schema: config.databaseSchema }),
      ...(options.onPoolError ? { onPoolError: options.onPoolError } : {}),
    });
  }
  const migrate = async () => {
    try {
      return await opened.store.migrate();
    } catch (error) {
      // The driver's message (connection refused, auth failed...) names no password.
      throw new CommandError(`Cannot open the database ${description}: ${(error as Error).message}`);
    }
  };
  if (options.migrate ?? true) {
    try {
      await migrate();
    } catch (error) {
      await opened.close();
      throw error;
    }
  }
  return {
    store: opened.store,
    description,
    migrate,
    ...(opened.poolUsage ? { poolUsage: opened.poolUsage } : {}),
    close: () => opened.close(),
  };
}
