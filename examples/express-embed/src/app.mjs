// An existing Express app with its own routes, and a Conan 2 server mounted
// at /conan next to them (remote URL: http://host:port/conan).
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import express from 'express';
import { conanRouter } from '@cimmeria/adapter-express';
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
 * @param {{ dataDir: string, user: string, password: string, tokenSecret: string }} options
 */
export async function createApp({ dataDir, user, password, tokenSecret }) {
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

  const app = express();
  app.use(express.json());
  // The host's own routes.
  app.get('/status', (_req, res) => res.json({ status: 'ok' }));
  app.post('/api/echo', (req, res) => res.json({ echo: req.body }));
  // The Conan server, next to them.
  app.use('/conan', conanRouter(registry));

  return { app, close: () => sqlite.close() };
}
