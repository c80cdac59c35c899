// The server under fuzz, in a worker thread: a request that blocks the event
// loop (a backtracking pattern) then freezes only this thread, so the test's
// own timers still fire, report the hang, and terminate the worker.
// Plain JavaScript: worker threads load files as they are, without vitest's transform.
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parentPort, workerData } from 'node:worker_threads';
import {
  ConanServerAuthorizer,
  PasswordAuthenticator,
  StaticUsers,
  TokenService,
  createConanHandler,
  createRegistry,
  hashPassword,
} from '@cimmeria/core';
import { serveNode } from '@cimmeria/core/node';
import { createSqliteMetadataStore } from '@cimmeria/metadata-sqlite';
import { FsBlobStore } from '@cimmeria/storage-fs';

/** @type {{ users: Record<string, string>; permissions: object; maxUploadBytes: number; tokenSecret: string }} */
const options = workerData;
const dir = await mkdtemp(join(tmpdir(), 'cimmeria-fuzz-'));
const sqlite = createSqliteMetadataStore({ filename: join(dir, 'metadata.db') });
await sqlite.store.migrate();
const hashes = Object.fromEntries(
  await Promise.all(Object.entries(options.users).map(async ([user, password]) => [user, await hashPassword(password)])),
);
const registry = createRegistry({
  metadata: sqlite.store,
  blobs: new FsBlobStore({ directory: join(dir, 'blobs') }),
  authenticator: new PasswordAuthenticator(new StaticUsers(hashes)),
  tokens: new TokenService({ secret: options.tokenSecret }),
  authorizer: new ConanServerAuthorizer(options.permissions),
  maxUploadBytes: options.maxUploadBytes,
});
// Unexpected errors (answered 500) are what the test reports; keep their stacks for it.
const server = await serveNode(
  createConanHandler(registry, {
    health: true,
    onError: (error) => parentPort.postMessage({ type: 'error', error: error instanceof Error ? error.stack : String(error) }),
  }),
);
parentPort.postMessage({ type: 'ready', port: server.port, url: server.url, dir });
parentPort.on('message', async (message) => {
  if (message !== 'close') return;
  await server.close();
  await sqlite.close();
  parentPort.postMessage({ type: 'closed' });
  parentPort.close();
});
