import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KyselyMetadataStore, createConanHandler, type BlobStore, type MetadataStore } from '@cimmeria/core';
import { serveNode } from '@cimmeria/core/node';
import { createPostgresMetadataStore } from '@cimmeria/metadata-postgres';
import { createSqliteMetadataStore } from '@cimmeria/metadata-sqlite';
import { FsBlobStore } from '@cimmeria/storage-fs';
import { S3BlobStore } from '@cimmeria/storage-s3';
import { describe, expect, it } from 'vitest';
import { PG_URL, dropSchema, freshSchemaName } from '../packages/metadata-postgres/test/support.js';
import { startS3 } from '../packages/storage-s3/test/support/s3rver.js';
import { conformanceRegistry } from './support/conformance-registry.js';

/**
 * Issue 10: `conan list 'pkg/1.0:*'` asks for the latest recipe revision,
 * then for its binaries (`GET .../revisions/{rrev}/search`). That listing is
 * one metadata query and reads no blob, however many binaries there are and
 * whatever the blob store: the conaninfo.txt texts were kept at upload.
 */

/** Reads of a real blob store, counted. */
class CountingBlobStore implements BlobStore {
  reads = 0;
  constructor(private readonly inner: BlobStore) {}
  put: BlobStore['put'] = (key, body) => this.inner.put(key, body);
  delete: BlobStore['delete'] = (key) => this.inner.delete(key);
  get: BlobStore['get'] = (key, range) => {
    this.reads += 1;
    return this.inner.get(key, range);
  };
  stat: BlobStore['stat'] = (key) => {
    this.reads += 1;
    return this.inner.stat(key);
  };
  list: BlobStore['list'] = (prefix) => {
    this.reads += 1;
    return this.inner.list(prefix);
  };
}

interface Backends {
  metadata: MetadataStore;
  blobs: CountingBlobStore;
  queries(): number;
  dispose(): Promise<void>;
}

async function sqliteAndFs(): Promise<Backends> {
  const dir = await mkdtemp(join(tmpdir(), 'cimmeria-listing-'));
  const sqlite = createSqliteMetadataStore({ filename: join(dir, 'metadata.db') });
  await sqlite.store.migrate();
  let queries = 0;
  // The server's own Kysely instance and driver, with every query it runs counted.
  const counting: Parameters<typeof sqlite.db.withPlugin>[0] = {
    transformQuery: (args) => {
      queries += 1;
      return args.node;
    },
    transformResult: async (args) => args.result,
  };
  return {
    metadata: new KyselyMetadataStore(sqlite.db.withPlugin(counting)),
    blobs: new CountingBlobStore(new FsBlobStore({ directory: join(dir, 'blobs') })),
    queries: () => queries,
    dispose: async () => {
      await sqlite.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

async function postgresAndS3(): Promise<Backends> {
  const schema = freshSchemaName();
  let queries = 0;
  const pg = createPostgresMetadataStore({
    connectionString: PG_URL,
    schema,
    log: (event) => {
      if (event.level === 'query') queries += 1;
    },
  });
  await pg.store.migrate();
  const s3 = await startS3();
  const client = s3.client();
  const bucket = await s3.createBucket(client);
  return {
    metadata: pg.store,
    blobs: new CountingBlobStore(new S3BlobStore({ client, bucket })),
    queries: () => queries,
    dispose: async () => {
      await pg.close();
      await dropSchema(schema);
      await s3.close();
    },
  };
}

const md5 = (text: string) => createHash('md5').update(text).digest('hex');
const basic = `Basic ${Buffer.from('demo:demo').toString('base64')}`;
const RREV = '0123456789abcdef0123456789abcdef';
const BINARIES = 40;

describe.each([
  ['SQLite + fs', sqliteAndFs],
  ['PostgreSQL + S3', postgresAndS3],
])('listing the binaries of a recipe revision on %s (issue 10)', (_name, open) => {
  it('is one metadata query and no blob read, for every binary', async () => {
    const backends = await open();
    const { registry, dispose } = await conformanceRegistry({ metadata: backends.metadata, blobs: backends.blobs });
    const server = await serveNode(createConanHandler(registry), { host: '127.0.0.1', port: 0 });
    try {
      const recipe = `${server.url}/v2/conans/pkg/1.0/_/_/revisions/${RREV}`;
      const put = async (path: string, body: string) => {
        const response = await fetch(`${recipe}${path}`, { method: 'PUT', body, headers: { authorization: basic } });
        expect(response.status, path).toBe(200);
      };
      const conanfile = 'from conan import ConanFile\n';
      await put('/files/conanfile.py', conanfile);
      await put('/files/conanmanifest.txt', `1700000000\nconanfile.py: ${md5(conanfile)}\n`);
      const infos = new Map<string, string>();
      for (let i = 0; i < BINARIES; i++) {
        const packageId = createHash('sha1').update(String(i)).digest('hex');
        const info = `[settings]\nos=Linux\n[options]\nshared=${i % 2 === 0}\nindex=${i}\n`;
        infos.set(packageId, info);
        const files = `/packages/${packageId}/revisions/${md5(info)}/files`;
        await put(`${files}/conaninfo.txt`, info);
        await put(`${files}/conanmanifest.txt`, `1700000000\nconaninfo.txt: ${md5(info)}\n`);
      }

      const queriesBefore = backends.queries();
      const readsBefore = backends.blobs.reads;
      const response = await fetch(`${recipe}/search`);
      expect(response.status).toBe(200);
      const listed = (await response.json()) as Record<string, { content: string }>;
      expect(backends.queries() - queriesBefore, 'metadata queries of one listing').toBe(1);
      expect(backends.blobs.reads - readsBefore, 'blob reads of one listing').toBe(0);

      expect(Object.keys(listed).sort()).toEqual([...infos.keys()].sort());
      for (const [packageId, info] of infos) expect(listed[packageId]?.content).toBe(info);
    } finally {
      await server.close();
      await dispose();
      await backends.dispose();
    }
  });
});
