import { createHash } from 'node:crypto';
import { createConanHandler } from '@cimmeria/core';
import { createMetrics } from '@cimmeria/core/metrics';
import { serveNode } from '@cimmeria/core/node';
import { createPostgresMetadataStore } from '@cimmeria/metadata-postgres';
import { S3BlobStore } from '@cimmeria/storage-s3';
import { describe, expect, it } from 'vitest';
import { PG_URL, dropSchema, freshSchemaName } from '../packages/metadata-postgres/test/support.js';
import { startS3 } from '../packages/storage-s3/test/support/s3rver.js';
import { conformanceRegistry } from './support/conformance-registry.js';
import { sample } from './support/prometheus-text.js';

const RREV = '/v2/conans/zlib/1.3/_/_/revisions/0123456789abcdef0123456789abcdef';
const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
const CONANFILE = 'from conan import ConanFile\n';
const MANIFEST = `1700000000\nconanfile.py: ${createHash('md5').update(CONANFILE).digest('hex')}\n`;

describe('metrics on PostgreSQL and S3 (issue 12)', () => {
  it('metrics: counts download redirects, PostgreSQL pool usage, and blob store errors by backend', async () => {
    const schema = freshSchemaName();
    const pg = createPostgresMetadataStore({ connectionString: PG_URL, schema });
    await pg.store.migrate();
    const s3 = await startS3();
    let s3Closed = false;
    const client = s3.client();
    const bucket = await s3.createBucket(client);
    const metrics = createMetrics();
    metrics.observePool(pg.poolUsage);
    const { registry, dispose } = await conformanceRegistry({
      metadata: pg.store,
      blobs: new S3BlobStore({ client, bucket }),
      metrics,
    });
    const server = await serveNode(createConanHandler(registry));
    try {
      const put = (path: string, body: string) =>
        fetch(`${server.url}${RREV}/files/${path}`, { method: 'PUT', body, headers: { authorization: basic('demo', 'demo') } });
      expect((await put('conanfile.py', CONANFILE)).status).toBe(200);
      expect((await put('conanmanifest.txt', MANIFEST)).status).toBe(200);
      const download = await fetch(`${server.url}${RREV}/files/conanfile.py`, { redirect: 'manual' });
      expect(download.status).toBe(302);
      let text = await metrics.registry.metrics();
      expect(sample(text, 'cimmeria_download_redirects_total')).toBe(1);
      expect(sample(text, 'cimmeria_download_bytes_total')).toBe(0);
      expect(sample(text, 'cimmeria_db_pool_connections', { state: 'total' })).toBeGreaterThanOrEqual(1);
      expect(sample(text, 'cimmeria_db_pool_connections', { state: 'waiting' })).toBe(0);
      expect(sample(text, 'cimmeria_backend_call_errors_total')).toBe(0);

      // The blob store goes away: the upload fails, and the failed call is counted.
      await s3.close();
      s3Closed = true;
      expect((await put('other.txt', 'bytes')).status).toBeGreaterThanOrEqual(500);
      text = await metrics.registry.metrics();
      expect(sample(text, 'cimmeria_backend_call_errors_total', { backend: 'blobs', method: 'put' })).toBe(1);
      expect(sample(text, 'cimmeria_backend_call_errors_total', { backend: 'metadata' })).toBe(0);
    } finally {
      await server.close();
      await dispose();
      if (!s3Closed) await s3.close();
      await pg.close();
      await dropSchema(schema);
    }
  }, 60_000);
});
