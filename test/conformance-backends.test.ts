import { createConanHandler, type BlobStore, type MetadataStore } from '@cimmeria/core';
import { serveNode } from '@cimmeria/core/node';
import { conformanceContract } from '@cimmeria/core/testing';
import { createPostgresMetadataStore } from '@cimmeria/metadata-postgres';
import { S3BlobStore } from '@cimmeria/storage-s3';
import { PG_URL, dropSchema, freshSchemaName } from '../packages/metadata-postgres/test/support.js';
import { startS3 } from '../packages/storage-s3/test/support/s3rver.js';
import { RECORDING, conformanceRegistry } from './support/conformance-registry.js';

// The replay on the other backend combinations (SQLite + fs runs in the other
// conformance files): S3 answers downloads with 302 to a presigned URL, which
// fetch follows as the conan client does.

interface Backend {
  store: MetadataStore | BlobStore;
  dispose(): Promise<void>;
}

async function postgres(): Promise<Backend & { store: MetadataStore }> {
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

async function s3(): Promise<Backend & { store: BlobStore }> {
  const server = await startS3();
  const client = server.client();
  const bucket = await server.createBucket(client);
  return { store: new S3BlobStore({ client, bucket, prefix: 'conformance/' }), dispose: () => server.close() };
}

/** The default of conformanceRegistry(): SQLite metadata, or blobs on a local directory. */
const defaultBackend = async () => null;

const combinations = [
  ['SQLite + S3', defaultBackend, s3],
  ['PostgreSQL + fs', postgres, defaultBackend],
  ['PostgreSQL + S3', postgres, s3],
] as const;

for (const [name, makeMetadata, makeBlobs] of combinations) {
  conformanceContract(`${name}, over node:http`, RECORDING, async () => {
    const metadata = await makeMetadata();
    const blobs = await makeBlobs();
    const { registry, dispose } = await conformanceRegistry({
      ...(metadata && { metadata: metadata.store }),
      ...(blobs && { blobs: blobs.store }),
    });
    const server = await serveNode(createConanHandler(registry));
    return {
      fetch: (path, init) => fetch(`${server.url}${path}`, init),
      close: async () => {
        await server.close();
        await dispose();
        await metadata?.dispose();
        await blobs?.dispose();
      },
    };
  });
}
