import { ConanService } from './service/conan-service.js';
import type { RegistryOptions } from './service/registry-options.js';

/** A configured Conan registry: what adapters and handlers are built from. */
export interface Registry {
  readonly service: ConanService;
  readonly options: Readonly<RegistryOptions>;
}

/**
 * Assembles a registry from injected parts (metadata store, blob store,
 * authenticator, tokens, authorizer).
 *
 * @example
 * const registry = createRegistry({ metadata, blobs, authenticator, tokens });
 * const handler = createConanHandler(registry);
 */
export function createRegistry(options: RegistryOptions): Registry {
  return { service: new ConanService(options), options };
}
