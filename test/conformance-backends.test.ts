import { createConanHandler } from '@cimmeria/core';
import { serveNode } from '@cimmeria/core/node';
import { conformanceContract } from '@cimmeria/core/testing';
import { postgresBackend, s3Backend } from './support/backends.js';
import { RECORDING, conformanceRegistry } from './support/conformance-registry.js';

// The replay on the other backend combinations (SQLite + fs runs in the other
// conformance files): S3 answers downloads with 302 to a presigned URL, which
// fetch follows as the conan client does.

const postgres = postgresBackend;
const s3 = () => s3Backend('conformance/');

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
