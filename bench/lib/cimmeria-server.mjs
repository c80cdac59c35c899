// Child process: a Cimmeria server on SQLite (or PostgreSQL with BENCH_PG_URL, in a schema of
// its own, BENCH_PG_SCHEMA, dropped when it stops) + a local directory, on 127.0.0.1 and a free port.
// Reads are open to anyone, writes to one user. Tells the parent its URL over IPC, and stops
// (closing the database) when the parent says so or goes away.
import { join } from 'node:path';
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
import { startMonitor } from './monitor.mjs';

const { BENCH_DATA_DIR: dir, BENCH_USER: user, BENCH_PASSWORD: password } = process.env;
if (!dir || !user || !password || !process.send) {
  console.error('cimmeria-server.mjs is started by bench/http-throughput.mjs');
  process.exit(2);
}

// BENCH_METRICS=1: Prometheus metrics on (what `cimmeria serve` does by default).
const metrics = process.env.BENCH_METRICS === '1' ? (await import('@cimmeria/core/metrics')).createMetrics() : undefined;
const { BENCH_PG_URL: pgUrl, BENCH_PG_SCHEMA: pgSchema } = process.env;
const metadata = pgUrl ? await openPostgres(pgUrl, pgSchema) : createSqliteMetadataStore({ filename: join(dir, 'metadata.db') });
await metadata.store.migrate();

async function openPostgres(connectionString, schema) {
  if (!schema || !/^[a-z_][a-z0-9_]*$/.test(schema)) throw new Error(`BENCH_PG_SCHEMA must be a plain identifier, not ${schema}`);
  const { createPostgresMetadataStore } = await import('@cimmeria/metadata-postgres');
  const pg = createPostgresMetadataStore({ connectionString, schema, ...(process.env.BENCH_PG_POOL ? { pool: { max: Number(process.env.BENCH_PG_POOL) } } : {}) });
  return {
    store: pg.store,
    // The schema is this run's only: drop it with everything in it.
    close: async () => {
      try {
        await pg.pool.query(`drop schema if exists "${schema}" cascade`);
      } finally {
        await pg.close();
      }
    },
  };
}
const registry = createRegistry({
  metadata: metadata.store,
  blobs: new FsBlobStore({ directory: join(dir, 'blobs') }),
  authenticator: new PasswordAuthenticator(new StaticUsers({ [user]: await hashPassword(password) })),
  tokens: new TokenService({ secret: 'bench-secret-0123456789abcdef' }),
  authorizer: new ConanServerAuthorizer({
    read: [{ pattern: '*/*@*/*', users: ['*'] }],
    write: [{ pattern: '*/*@*/*', users: [user] }],
  }),
  downloads: 'stream',
  ...(metrics ? { metrics } : {}),
  // Extra registry options from the benchmark (e.g. login throttling settings), as JSON.
  ...JSON.parse(process.env.BENCH_REGISTRY_OPTIONS || '{}'),
});
const handler = createConanHandler(registry, {
  onError: (error, request) => console.error(`cimmeria: ${request.method} ${request.url}:`, error),
});
const server = await serveNode(handler, { host: '127.0.0.1', port: 0 });

const monitor = startMonitor();
let stopping = false;
async function stop() {
  if (stopping) return;
  stopping = true;
  server.server.closeAllConnections();
  await server.close().catch(() => undefined);
  await metadata.close().catch((error) => console.error('cimmeria-server: closing the metadata store:', error));
  process.exit(0);
}
process.on('message', (message) => {
  if (message?.type === 'stop') void stop();
  else monitor.handle(message);
});
process.on('disconnect', () => void stop());
process.send({ type: 'ready', url: server.url });
