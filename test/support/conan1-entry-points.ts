import { createServer } from 'node:http';
import express from 'express';
import Fastify from 'fastify';
import { conanRouter } from '@cimmeria/adapter-express';
import { conanPlugin } from '@cimmeria/adapter-fastify';
import { ConanServerAuthorizer, createConanHandler } from '@cimmeria/core';
import { serveNode } from '@cimmeria/core/node';
import { CONAN1_CONFORMANCE_PERMISSIONS, type Conan1ConformanceTarget } from '@cimmeria/core/testing';
import { startServe, tempDir } from '../../packages/cli/test/support/cli-process.js';
import { postgresBackend, s3Backend } from './backends.js';
import { conformanceRegistry as conan2Registry } from './conformance-registry.js';
import { listen } from './listen.js';

const here = (path: string) => new URL(path, import.meta.url).pathname;

/** The real Conan 1.65 client with conan_server 1.65, in v1 mode and with revisions. */
export const CONAN1_V1_RECORDING = here('../../conformance/conan1/conan1-v1.jsonl');
export const CONAN1_REVISIONS_RECORDING = here('../../conformance/conan1/conan1-revisions.jsonl');
const CONAN1_SERVER_CONF = here('../../conformance/conan1/server.conf');

/** A registry on SQLite + disk (or the stores given) with the Conan 1 recordings' users and permissions. */
const conformanceRegistry = (overrides: Parameters<typeof conan2Registry>[0] = {}) =>
  conan2Registry({ authorizer: new ConanServerAuthorizer(CONAN1_CONFORMANCE_PERMISSIONS), ...overrides });

type Start = () => Promise<Conan1ConformanceTarget>;

/** The fetch handler called directly: file URLs it hands out are answered by it too. */
const fetchHandler: Start = async () => {
  const { registry, dispose } = await conformanceRegistry();
  const handler = createConanHandler(registry);
  const call = (url: string, init: RequestInit) => handler(new Request(url, init));
  return { fetch: (path, init) => call(`http://cimmeria.test${path}`, init), fetchUrl: call, close: dispose };
};

const nodeHttp: Start = async () => {
  const { registry, dispose } = await conformanceRegistry();
  const server = await serveNode(createConanHandler(registry));
  return {
    fetch: (path, init) => fetch(`${server.url}/some/prefix${path}`, init),
    close: async () => {
      await server.close();
      await dispose();
    },
  };
};

const expressApp: Start = async () => {
  const { registry, dispose } = await conformanceRegistry();
  const app = express();
  app.use(express.json(), express.urlencoded({ extended: false }));
  app.use('/conan', conanRouter(registry));
  const server = await listen(createServer(app));
  return {
    fetch: (path, init) => fetch(`${server.url}/conan${path}`, init),
    close: async () => {
      await server.close();
      await dispose();
    },
  };
};

const fastifyApp: Start = async () => {
  const { registry, dispose } = await conformanceRegistry();
  const app = Fastify({ forceCloseConnections: true });
  await app.register(conanPlugin, { registry, prefix: '/conan' });
  const url = await app.listen({ port: 0, host: '127.0.0.1' });
  return {
    fetch: (path, init) => fetch(`${url}/conan${path}`, init),
    close: async () => {
      await app.close();
      await dispose();
    },
  };
};

/** The built `cimmeria serve`, configured by the recordings' own server.conf. */
const standalone: Start = async () => {
  const data = await tempDir('cimmeria-conan1-');
  const serve = await startServe(['--port', '0', '--host', '127.0.0.1', '--data', data.dir, '--conan-server-conf', CONAN1_SERVER_CONF]);
  return {
    fetch: (path, init) => fetch(`${serve.url}${path}`, init),
    close: async () => {
      const code = await serve.stop();
      await data.remove();
      if (code !== 0) throw new Error(`cimmeria serve exited with ${code}:\n${serve.stderr()}`);
    },
  };
};

/** PostgreSQL + S3 (s3rver) over node:http: Conan 1 file bytes go to and come from the object store. */
const postgresS3: Start = async () => {
  const metadata = await postgresBackend();
  const blobs = await s3Backend('conan1/');
  const { registry, dispose } = await conformanceRegistry({ metadata: metadata.store, blobs: blobs.store });
  const server = await serveNode(createConanHandler(registry));
  return {
    fetch: (path, init) => fetch(`${server.url}${path}`, init),
    close: async () => {
      await server.close();
      await dispose();
      await metadata.dispose();
      await blobs.dispose();
    },
  };
};

/** Every entry point on SQLite + disk, then PostgreSQL + S3. */
export const CONAN1_ENTRY_POINTS: [string, Start][] = [
  ['fetch handler called directly', fetchHandler],
  ['node:http under /some/prefix', nodeHttp],
  ['Express under /conan', expressApp],
  ['Fastify plugin under /conan', fastifyApp],
  ['standalone cimmeria serve', standalone],
  ['PostgreSQL + S3, over node:http', postgresS3],
];
