import { conformanceContract } from '@cimmeria/core/testing';
import { postgresBackend, s3Backend } from './support/backends.js';
import { RECORDING, conformanceRegistry } from './support/conformance-registry.js';
import { nodeHttpTarget } from './support/conformance-targets.js';

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
    const target = await nodeHttpTarget(
      await conformanceRegistry({
        ...(metadata && { metadata: metadata.store }),
        ...(blobs && { blobs: blobs.store }),
      }),
    );
    return {
      ...target,
      close: async () => {
        await target.close();
        await metadata?.dispose();
        await blobs?.dispose();
      },
    };
  });
}
