import Fastify, { type FastifyInstance } from 'fastify';
import { conanPlugin } from '@cimmeria/adapter-fastify';
import { createConanHandler, type Registry } from '@cimmeria/core';
import { serveNode } from '@cimmeria/core/node';
import type { ConformanceTarget } from '@cimmeria/core/testing';
import { startServe, tempDir } from '../../packages/cli/test/support/cli-process.js';

// Entry points the Conan 2 and Conan 1 replays both run through; each replay
// brings its own registry (users and permissions of its recording).

/** A fresh registry and what frees it, as conformanceRegistry() returns them. */
export interface MadeRegistry {
  registry: Registry;
  dispose: () => Promise<void>;
}

/** The fetch handler over a real socket through the node bridge, requests sent under `prefix`; close() disposes the registry too. */
export async function nodeHttpTarget({ registry, dispose }: MadeRegistry, prefix = ''): Promise<ConformanceTarget> {
  const server = await serveNode(createConanHandler(registry));
  return {
    fetch: (path, init) => fetch(`${server.url}${prefix}${path}`, init),
    close: async () => {
      await server.close();
      await dispose();
    },
  };
}

/** The Fastify plugin registered under /conan of a host `setup` prepared first; close() disposes the registry too. */
export async function fastifyTarget(
  { registry, dispose }: MadeRegistry,
  setup: (app: FastifyInstance) => void = () => {},
): Promise<ConformanceTarget> {
  // Close promptly even if a keep-alive connection turns idle only after close() began.
  const app = Fastify({ forceCloseConnections: true });
  setup(app);
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

/** The built `cimmeria serve` in a child process on a fresh data dir, configured only by `serverConf`. */
export async function standaloneTarget(serverConf: string, tempPrefix: string): Promise<ConformanceTarget> {
  const data = await tempDir(tempPrefix);
  const serve = await startServe(['--port', '0', '--host', '127.0.0.1', '--data', data.dir, '--conan-server-conf', serverConf]);
  return {
    fetch: (path, init) => fetch(`${serve.url}${path}`, init),
    close: async () => {
      const code = await serve.stop();
      await data.remove();
      if (code !== 0) throw new Error(`cimmeria serve exited with ${code}:\n${serve.stderr()}`);
    },
  };
}
