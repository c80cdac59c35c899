import { join } from 'node:path';
import type { BlobStore, MetadataStore } from '@cimmeria/core';
import { createPostgresMetadataStore } from '@cimmeria/metadata-postgres';
import { createSqliteMetadataStore } from '@cimmeria/metadata-sqlite';
import { S3BlobStore } from '@cimmeria/storage-s3';
import { PG_URL, dropSchema, freshSchemaName } from '../../packages/metadata-postgres/test/support.js';
import { startS3 } from '../../packages/storage-s3/test/support/s3rver.js';

/** A store for a test and its disposal (dropping what it created). */
export interface Backend<Store> {
  store: Store;
  dispose(): Promise<void>;
}

/** A migrated SQLite store in `dir`/metadata.db (the caller removes `dir`). */
export async function sqliteBackend(dir: string): Promise<Backend<MetadataStore>> {
  const sqlite = createSqliteMetadataStore({ filename: join(dir, 'metadata.db') });
  await sqlite.store.migrate();
  return { store: sqlite.store, dispose: () => sqlite.close() };
}

/** A migrated PostgreSQL store in a fresh schema of the machine's PostgreSQL. */
export async function postgresBackend(): Promise<Backend<MetadataStore>> {
  const schema = freshSchemaName();
  const pg = createPostgresMetadataStore({ connectionString: PG_URL, schema });
  await pg.store.migrate();
  return {
    store: pg.store,
    dispose: async () => {
      await pg.close();
      await dropSchema(schema);
    },
  };
}

/** An S3 store on a fresh bucket of an in-process S3 server. */
export async function s3Backend(prefix: string): Promise<Backend<BlobStore>> {
  const server = await startS3();
  const client = server.client();
  const bucket = await server.createBucket(client);
  return { store: new S3BlobStore({ client, bucket, prefix }), dispose: () => server.close() };
}

/** Both metadata stores, for `describe.each`: a label and a factory given the test's temp dir. */
export const metadataBackends: [string, (dir: string) => Promise<Backend<MetadataStore>>][] = [
  ['SQLite', sqliteBackend],
  ['PostgreSQL', () => postgresBackend()],
];
