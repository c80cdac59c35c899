import { createServer } from 'node:http';
import express from 'express';
import { conanRouter } from '@cimmeria/adapter-express';
import { conformanceContract } from '@cimmeria/core/testing';
import { RECORDING, conformanceRegistry } from './support/conformance-registry.js';
import { listen } from './support/listen.js';

async function startExpress(parsers: express.RequestHandler[]) {
  const { registry, dispose } = await conformanceRegistry();
  const app = express();
  app.use(...parsers);
  app.get('/status', (_req, res) => void res.json({ ok: true }));
  app.use('/conan', conanRouter(registry));
  const server = await listen(createServer(app));
  return {
    fetch: (path: string, init: RequestInit) => fetch(`${server.url}/conan${path}`, init),
    close: async () => {
      await server.close();
      await dispose();
    },
  };
}

// A typical host: JSON and form parsers installed globally.
conformanceContract('Express under /conan with json + urlencoded parsers', RECORDING, () =>
  startExpress([express.json(), express.urlencoded({ extended: false })]),
);

// A host whose raw parser reads every body before the router sees it.
conformanceContract('Express under /conan after express.raw() consumed the bodies', RECORDING, () =>
  startExpress([express.raw({ type: () => true, limit: '50mb' })]),
);
