export {
  createPostgresMetadataStore,
  guardPool,
  DEFAULT_QUERY_TIMEOUT_MS,
  type PostgresConnectOptions,
  type PostgresMetadata,
  type PostgresMetadataOptions,
  type PostgresPoolOptions,
  type PostgresPoolSizing,
} from './postgres-metadata.js';
export { PostgresMetadataStore, MIGRATION_LOCK_KEY, type PostgresMetadataStoreOptions } from './postgres-store.js';
export { PostgresMetadataDialect, withoutQueryDeadline, type PostgresMetadataDialectConfig } from './dialect.js';
export { postgresClock } from './clock.js';
export { isPostgresUnavailable } from './unavailable.js';
