export {
  createPostgresMetadataStore,
  guardPool,
  type PostgresConnectOptions,
  type PostgresMetadata,
  type PostgresMetadataOptions,
  type PostgresPoolOptions,
  type PostgresPoolSizing,
} from './postgres-metadata.js';
export { PostgresMetadataStore, MIGRATION_LOCK_KEY, type PostgresMetadataStoreOptions } from './postgres-store.js';
export { PostgresMetadataDialect } from './dialect.js';
export { postgresClock } from './clock.js';
export { isPostgresUnavailable } from './unavailable.js';
