import type { FastifyInstance } from 'fastify';
import { conformanceContract, type ConformanceTarget } from '@cimmeria/core/testing';
import { RECORDING, conformanceRegistry } from './support/conformance-registry.js';
import { fastifyTarget } from './support/conformance-targets.js';

/** A host with its own JSON route, `setup` applied, and the plugin registered under /conan. */
async function startFastify(setup: (app: FastifyInstance) => void = () => {}): Promise<ConformanceTarget> {
  return fastifyTarget(await conformanceRegistry(), (app) => {
    setup(app);
    app.post('/api/echo', async (request) => request.body);
  });
}

// A typical host: Fastify's own JSON and text parsers.
conformanceContract('Fastify plugin under /conan', RECORDING, () => startFastify());

// A host that reads every body into a Buffer: the plugin's scope must not inherit that parser.
conformanceContract('Fastify plugin under /conan next to a catch-all buffer parser', RECORDING, () =>
  startFastify((app) => {
    app.addContentTypeParser('*', { parseAs: 'buffer' }, (_request, body, done) => done(null, body));
  }),
);
