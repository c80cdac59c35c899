import { createConanHandler } from '@cimmeria/core';
import { serveNode } from '@cimmeria/core/node';
import { conformanceContract } from '@cimmeria/core/testing';
import { RECORDING, conformanceRegistry } from './support/conformance-registry.js';

// Over a real socket through the node bridge, under a base path like a remote URL with a prefix.
conformanceContract('node:http under /some/prefix', RECORDING, async () => {
  const { registry, dispose } = await conformanceRegistry();
  const server = await serveNode(createConanHandler(registry));
  return {
    fetch: (path, init) => fetch(`${server.url}/some/prefix${path}`, init),
    close: async () => {
      await server.close();
      await dispose();
    },
  };
});
