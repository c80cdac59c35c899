import { createHash, randomBytes } from 'node:crypto';
import { createConanHandler, createRegistry, type Registry } from '@cimmeria/core';
import { serveNode, type NodeServer } from '@cimmeria/core/node';
import { createPostgresMetadataStore, type PostgresMetadata } from '@cimmeria/metadata-postgres';
import { S3BlobStore } from '@cimmeria/storage-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PG_URL, dropSchema, freshSchemaName } from '../packages/metadata-postgres/test/support.js';
import { startS3, type TestS3 } from '../packages/storage-s3/test/support/s3rver.js';
import { conformanceRegistry } from './support/conformance-registry.js';
import { login } from './support/login.js';

// Two nodes, each with its own pool and S3 client, over one PostgreSQL schema
// and one bucket: what a cluster shares. No node keeps state of its own.

const sha1 = (bytes: Uint8Array) => createHash('sha1').update(bytes).digest('hex');
const RECIPE = '/v2/conans/race/1.0/_/_';

describe('two nodes over the same PostgreSQL and S3', () => {
  let s3: TestS3;
  let bucket: string;
  let schema: string;
  const nodes: { server: NodeServer; pg: PostgresMetadata; dispose: () => Promise<void> }[] = [];
  let token: string;

  beforeAll(async () => {
    s3 = await startS3();
    bucket = await s3.createBucket(s3.client());
    schema = freshSchemaName();
    for (let i = 0; i < 2; i++) {
      const pg = createPostgresMetadataStore({ connectionString: PG_URL, schema });
      await pg.store.migrate();
      const { registry: base, dispose } = await conformanceRegistry();
      const registry: Registry = createRegistry({
        ...base.options,
        metadata: pg.store,
        blobs: new S3BlobStore({ client: s3.client(), bucket, prefix: 'nodes' }),
      });
      nodes.push({ server: await serveNode(createConanHandler(registry)), pg, dispose });
    }
    token = await login(nodes[0]!.server.url, 'demo', 'demo');
  });

  afterAll(async () => {
    for (const node of nodes) {
      await node.server.close();
      await node.pg.close();
      await node.dispose();
    }
    await s3?.close();
    if (schema) await dropSchema(schema);
  });

  const url = (node: number, path: string) => `${nodes[node]!.server.url}${path}`;

  const put = async (node: number, revision: string, name: string, body: Uint8Array<ArrayBuffer>) => {
    const response = await fetch(url(node, `${RECIPE}/revisions/${revision}/files/${name}`), {
      method: 'PUT',
      headers: { authorization: `Bearer ${token}`, 'x-checksum-sha1': sha1(body) },
      body,
    });
    await response.arrayBuffer();
    return response.status;
  };

  const filesOf = () => ({
    'conan_export.tgz': new Uint8Array(randomBytes(200_000)),
    'conanfile.py': new Uint8Array(randomBytes(100)),
    'conanmanifest.txt': new Uint8Array(randomBytes(50)),
  });

  const uploadAll = async (node: number, revision: string, files: Record<string, Uint8Array<ArrayBuffer>>) => {
    for (const [name, body] of Object.entries(files)) expect(await put(node, revision, name, body)).toBe(200);
  };

  /** The same answers from both nodes: latest, revisions, search, files. */
  async function sameAnswers(revision: string): Promise<void> {
    for (const path of [`${RECIPE}/latest`, `${RECIPE}/revisions`, '/v2/conans/search?q=race*', `${RECIPE}/revisions/${revision}/files`]) {
      const [a, b] = await Promise.all([0, 1].map(async (n) => {
        const response = await fetch(url(n, path));
        return `${response.status} ${await response.text()}`;
      }));
      expect(a, path).toBe(b);
    }
  }

  async function download(node: number, revision: string, name: string): Promise<string> {
    const response = await fetch(url(node, `${RECIPE}/revisions/${revision}/files/${name}`));
    expect(response.status).toBe(200);
    return sha1(new Uint8Array(await response.arrayBuffer()));
  }

  it('converges when the same revision is uploaded through both nodes at once', async () => {
    for (let round = 0; round < 5; round++) {
      const revision = sha1(randomBytes(8)).slice(0, 32);
      const files = filesOf();
      await Promise.all([uploadAll(0, revision, files), uploadAll(1, revision, files)]);
      const { revisions } = await (await fetch(url(1, `${RECIPE}/revisions`))).json();
      expect(revisions.filter((r: { revision: string }) => r.revision === revision)).toHaveLength(1);
      const listed = await (await fetch(url(0, `${RECIPE}/revisions/${revision}/files`))).json();
      expect(Object.keys(listed.files).sort()).toEqual(Object.keys(files).sort());
      for (const [name, body] of Object.entries(files)) {
        expect(await download(round % 2, revision, name)).toBe(sha1(body));
      }
      await sameAnswers(revision);
    }
  });

  it('leaves a revision whole or absent when a delete on one node races its upload on the other', async () => {
    const outcomes = { whole: 0, absent: 0 };
    for (let round = 0; round < 12; round++) {
      const revision = sha1(randomBytes(8)).slice(0, 32);
      const files = filesOf();
      await uploadAll(0, revision, files);
      // `conan upload --force` through node 0 while `conan remove` runs through node 1.
      const upload = uploadAll(0, revision, files);
      await new Promise((resolve) => setTimeout(resolve, Math.random() * 40));
      const deleted = await fetch(url(1, `${RECIPE}/revisions/${revision}`), {
        method: 'DELETE',
        headers: { authorization: `Bearer ${token}` },
      });
      expect([200, 404]).toContain(deleted.status);
      await upload;

      const listing = await fetch(url(1, `${RECIPE}/revisions/${revision}/files`));
      if (listing.status === 404) {
        outcomes.absent += 1;
      } else {
        outcomes.whole += 1;
        expect(Object.keys((await listing.json()).files).sort(), `round ${round}`).toEqual(Object.keys(files).sort());
        for (const [name, body] of Object.entries(files)) expect(await download(0, revision, name)).toBe(sha1(body));
      }
      await sameAnswers(revision);
    }
    console.log(`delete racing upload, 12 rounds: ${outcomes.whole} whole, ${outcomes.absent} absent`);
  });
});
