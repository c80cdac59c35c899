import { createConanHandler } from '@cimmeria/core';
import { conformanceContract } from '@cimmeria/core/testing';
import { RECORDING, conformanceRegistry } from './support/conformance-registry.js';

// The fetch handler called directly, as a fetch-based host (Bun, Deno, Hono...) would.
conformanceContract('fetch handler called directly', RECORDING, async () => {
  const { registry, dispose } = await conformanceRegistry();
  const handler = createConanHandler(registry);
  return {
    fetch: (path, init) => handler(new Request(`http://cimmeria.test${path}`, init)),
    close: dispose,
  };
});
