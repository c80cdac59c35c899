import { createConanHandler } from '@cimmeria/core';
import { createSqliteMetadataStore } from '@cimmeria/metadata-sqlite';
import { S3BlobStore } from '@cimmeria/storage-s3';
import { describe, expect, it } from 'vitest';
import { deadPort, startS3 } from '../packages/storage-s3/test/support/s3rver.js';
import { conformanceRegistry } from './support/conformance-registry.js';

const get = (handler: (r: Request) => Promise<Response>, path: string, method = 'GET') =>
  handler(new Request(`http://node${path}`, { method }));

describe('health endpoints', () => {
  it('are off unless asked for', async () => {
    const { registry, dispose } = await conformanceRegistry();
    try {
      expect((await get(createConanHandler(registry), '/healthz')).status).toBe(404);
    } finally {
      await dispose();
    }
  });

  it('say alive and ready, under the base path, on the paths given', async () => {
    const { registry, dispose } = await conformanceRegistry();
    try {
      const handler = createConanHandler(registry, { basePath: '/conan', health: { healthPath: '/-/live', readyPath: '/-/ready' } });
      expect((await get(handler, '/conan/-/live')).status).toBe(200);
      const ready = await get(handler, '/conan/-/ready');
      expect(ready.status).toBe(200);
      expect(ready.headers.get('cache-control')).toBe('no-store');
      expect(await ready.json()).toEqual({ status: 'ready', checks: { metadata: 'ok', blobs: 'ok' } });
      const head = await get(handler, '/conan/-/ready', 'HEAD');
      expect([head.status, await head.text()]).toEqual([200, '']);
      expect((await get(handler, '/conan/-/ready', 'POST')).status).toBe(405);
      expect((await get(handler, '/conan/healthz')).status).toBe(404);
      // The API is unaffected.
      expect((await get(handler, '/conan/v2/ping')).status).toBe(200);
    } finally {
      await dispose();
    }
  });

  it('turns not ready while draining, staying alive', async () => {
    const { registry, dispose } = await conformanceRegistry();
    let draining = false;
    try {
      const handler = createConanHandler(registry, { health: { draining: () => draining } });
      expect((await get(handler, '/readyz')).status).toBe(200);
      draining = true;
      const ready = await get(handler, '/readyz');
      expect(ready.status).toBe(503);
      expect(await ready.json()).toEqual({ status: 'draining' });
      expect((await get(handler, '/healthz')).status).toBe(200);
    } finally {
      await dispose();
    }
  });

  it('turns not ready when the database is gone, naming it', async () => {
    const sqlite = createSqliteMetadataStore({ filename: ':memory:' });
    await sqlite.store.migrate();
    const { registry, dispose } = await conformanceRegistry({ metadata: sqlite.store });
    try {
      const handler = createConanHandler(registry, { health: true });
      expect((await get(handler, '/readyz')).status).toBe(200);
      await sqlite.close();
      const ready = await get(handler, '/readyz');
      expect(ready.status).toBe(503);
      const body = await ready.json();
      expect(body.status).toBe('unavailable');
      expect(body.checks.blobs).toBe('ok');
      expect(body.checks.metadata).not.toBe('ok');
      expect((await get(handler, '/healthz')).status).toBe(200);
    } finally {
      await dispose();
    }
  });

  it('turns not ready when S3 is unreachable, and ready again when it is back', async () => {
    const s3 = await startS3();
    const client = s3.client();
    const bucket = await s3.createBucket(client);
    const dead = s3.client({ endpoint: `http://127.0.0.1:${await deadPort()}`, maxAttempts: 1 });
    const { registry, dispose } = await conformanceRegistry({ blobs: new S3BlobStore({ client: dead, bucket }) });
    const { registry: healthy, dispose: disposeHealthy } = await conformanceRegistry({ blobs: new S3BlobStore({ client, bucket }) });
    try {
      const down = await get(createConanHandler(registry, { health: true }), '/readyz');
      expect(down.status).toBe(503);
      expect((await down.json()).checks.metadata).toBe('ok');
      expect((await get(createConanHandler(healthy, { health: true }), '/readyz')).status).toBe(200);
    } finally {
      await dispose();
      await disposeHealthy();
      await s3.close();
    }
  });
});
