// An existing Fastify app with its own routes, and a Conan 2 server
// registered under /conan (remote URL: http://host:port/conan).
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import Fastify from 'fastify';
import { conanPlugin } from '@cimmeria/adapter-fastify';
import {
  ConanServerAuthorizer,
  PasswordAuthenticator,
  StaticUsers,
  TokenService,
  createRegistry,
  hashPassword,
} from '@cimmeria/core';
import { createSqliteMetadataStore } from '@cimmeria/metadata-sqlite';
import { FsBlobStore } from '@cimmeria/storage-fs';

/**
 * Builds the app. `user`/`password` may upload; anyone may read.
 * @param {{ dataDir: string, user: string, password: string, tokenSecret: string, logger?: boolean }} options
 */
export async function createApp({ dataDir, user, password, tokenSecret, logger = false }) {
  mkdirSync(dataDir, { recursive: true });
  const sqlite = createSqliteMetadataStore({ filename: join(dataDir, 'metadata.db') });
  await sqlite.store.migrate();
  const registry = createRegistry({
    metadata: sqlite.store,
    blobs: new FsBlobStore({ directory: join(dataDir, 'blobs') }),
    authenticator: new PasswordAuthenticator(new StaticUsers({ [user]: await hashPassword(password) })),
    tokens: new TokenService({ secret: tokenSecret }),
    authorizer: new ConanServerAuthorizer({ write: [{ pattern: '*/*@*/*', users: [user] }] }),
  });

  const app = Fastify({ logger });
  // The host's own routes.
  app.get('/status', async () => ({ status: 'ok' }));
  app.post('/api/echo', async (request) => ({ echo: request.body }));
  // The Conan server, next to them.
  await app.register(conanPlugin, { registry, prefix: '/conan' });
  app.addHook('onClose', () => sqlite.close());
  return app;
}
