import Fastify, { type FastifyInstance } from 'fastify';
import { conanPlugin } from '@cimmeria/adapter-fastify';
import { conformanceContract, type ConformanceTarget } from '@cimmeria/core/testing';
import { RECORDING, conformanceRegistry } from './support/conformance-registry.js';

/** A host with its own JSON route, `setup` applied, and the plugin registered under /conan. */
async function startFastify(setup: (app: FastifyInstance) => void = () => {}): Promise<ConformanceTarget> {
  const { registry, dispose } = await conformanceRegistry();
  // Close promptly even if a keep-alive connection turns idle only after close() began.
  const app = Fastify({ forceCloseConnections: true });
  setup(app);
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
}

// A typical host: Fastify's own JSON and text parsers.
conformanceContract('Fastify plugin under /conan', RECORDING, () => startFastify());

// A host that reads every body into a Buffer: the plugin's scope must not inherit that parser.
conformanceContract('Fastify plugin under /conan next to a catch-all buffer parser', RECORDING, () =>
  startFastify((app) => {
    app.addContentTypeParser('*', { parseAs: 'buffer' }, (_request, body, done) => done(null, body));
  }),
);
