import Fastify from 'fastify';
import { conanPlugin } from '@cimmeria/adapter-fastify';
import { conformanceContract } from '@cimmeria/core/testing';
import { RECORDING, conformanceRegistry } from './support/conformance-registry.js';

// A host with its own JSON route next to the plugin, registered under a prefix.
conformanceContract('Fastify plugin under /conan', RECORDING, async () => {
  const { registry, dispose } = await conformanceRegistry();
  // Close promptly even if a keep-alive connection turns idle only after close() began.
  const app = Fastify({ forceCloseConnections: true });
  app.post('/api/echo', async (request) => request.body);
  await app.register(conanPlugin, { registry, prefix: '/conan' });
  const url = await app.listen({ port: 0, host: '127.0.0.1' });
  return {
    fetch: (path, init) => fetch(`${url}/conan${path}`, init),
    close: async () => {
      await app.close();
      await dispose();
    },
  };
});
