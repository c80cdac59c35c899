export * from './reference/index.js';
export * from './auth/index.js';
export * from './storage/index.js';
export * from './metadata/metadata-store.js';
export type { Database } from './metadata/schema.js';
export { KyselyMetadataStore, appendAudit, type KyselyMetadataStoreOptions } from './metadata/kysely-store.js';
export { migrationProvider, migrateToLatest, type CoreMigrationProvider, type MigrateOptions } from './metadata/migrations/index.js';
export { preparedStatementName } from './metadata/hot-queries.js';
export * from './routes/index.js';
export * from './service/errors.js';
export * from './deadline.js';
export * from './service/registry-options.js';
export { ConanService, CAPABILITIES, type BinariesInfo, type CallContext, type FileDownload, type LoginContext, type UploadInfo } from './service/conan-service.js';
export { DownloadTally, type DownloadTallyOptions } from './service/download-tally.js';
export { createConanHandler, type ConanHandlerOptions, type FetchHandler, type HasService } from './http/create-handler.js';
export type { WebUi } from './http/web-ui.js';
export { forwardedClientAddress, type ClientAddressResolver, type FetchHandlerContext } from './http/client-address.js';
export {
  createHealthHandler,
  ReadinessCheckError,
  type HealthOptions,
  type ReadinessCheckName,
  type ReadinessOutcome,
} from './http/health.js';
export { ERROR_STATUS, errorResponse } from './http/error-status.js';
export { formatTime } from './http/responses.js';
export { createRegistry, type Registry } from './registry.js';
export * from './maintenance/collect-garbage.js';
export type { RegistryMetrics } from './metrics/registry-metrics.js';
export { instrumentBackend } from './metrics/instrument-backend.js';
