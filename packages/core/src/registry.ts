import { instrumentBackend } from './metrics/instrument-backend.js';
import type { RegistryMetrics } from './metrics/registry-metrics.js';
import { ConanService } from './service/conan-service.js';
import type { RegistryOptions } from './service/registry-options.js';

/** A configured Conan registry: what adapters and handlers are built from. */
export interface Registry {
  readonly service: ConanService;
  readonly options: Readonly<RegistryOptions>;
  /** Where handlers built on this registry report requests (from `options.metrics`). */
  readonly metrics?: RegistryMetrics;
}

/**
 * Assembles a registry from injected parts (metadata store, blob store,
 * authenticator, tokens, authorizer). With `metrics`, every metadata and
 * blob store call is timed, and handlers built on it report requests.
 *
 * @example
 * const registry = createRegistry({ metadata, blobs, authenticator, tokens });
 * const handler = createConanHandler(registry);
 */
export function createRegistry(options: RegistryOptions): Registry {
  const { metrics } = options;
  if (!metrics) return { service: new ConanService(options), options };
  const service = new ConanService({
    ...options,
    metadata: instrumentBackend(options.metadata, 'metadata', metrics),
    blobs: instrumentBackend(options.blobs, 'blobs', metrics),
  });
  return { service, options, metrics };
}
