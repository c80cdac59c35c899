import { createServer } from 'node:http';
import express from 'express';
import { conanRouter } from '@cimmeria/adapter-express';
import { ConanServerAuthorizer, createConanHandler } from '@cimmeria/core';
import { CONAN1_CONFORMANCE_PERMISSIONS, type Conan1ConformanceTarget } from '@cimmeria/core/testing';
import { postgresBackend, s3Backend } from './backends.js';
import { conformanceRegistry as conan2Registry } from './conformance-registry.js';
import { fastifyTarget, nodeHttpTarget, standaloneTarget } from './conformance-targets.js';
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

const nodeHttp: Start = async () => nodeHttpTarget(await conformanceRegistry(), '/some/prefix');

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

const fastifyApp: Start = async () => fastifyTarget(await conformanceRegistry());

/** The built `cimmeria serve`, configured by the recordings' own server.conf. */
const standalone: Start = () => standaloneTarget(CONAN1_SERVER_CONF, 'cimmeria-conan1-');

/** PostgreSQL + S3 (s3rver) over node:http: Conan 1 file bytes go to and come from the object store. */
const postgresS3: Start = async () => {
  const metadata = await postgresBackend();
  const blobs = await s3Backend('conan1/');
  const target = await nodeHttpTarget(await conformanceRegistry({ metadata: metadata.store, blobs: blobs.store }));
  return {
    ...target,
    close: async () => {
      await target.close();
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
