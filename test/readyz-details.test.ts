import { createServer, type Socket } from 'node:net';
import { createConanHandler, ReadinessCheckError } from '@cimmeria/core';
import { serveNode } from '@cimmeria/core/node';
import { createPostgresMetadataStore } from '@cimmeria/metadata-postgres';
import { S3BlobStore } from '@cimmeria/storage-s3';
import { describe, expect, it } from 'vitest';
import { deadPort, startS3 } from '../packages/storage-s3/test/support/s3rver.js';
import { conformanceRegistry } from './support/conformance-registry.js';

// Issue 8, item 4: /readyz tells anyone whether each store is ready, never
// the backend's error text (internal host:port); the details go to onError.

/** A TCP server that accepts connections and never answers: a silent partition. */
async function blackHole(): Promise<{ port: number; close: () => Promise<void> }> {
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as { port: number }).port,
    close: () =>
      new Promise((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

async function readyz(handler: Parameters<typeof serveNode>[0]) {
  const server = await serveNode(handler);
  try {
    const response = await fetch(`${server.url}/readyz`, { signal: AbortSignal.timeout(10_000) });
    return { status: response.status, text: await response.text() };
  } finally {
    await server.close();
  }
}

describe('issue 8 item 4: /readyz keeps backend details in the log', () => {
  it('answers "unavailable" for a PostgreSQL it cannot reach, and hands the error naming host:port to onError', async () => {
    const port = await deadPort();
    const postgres = createPostgresMetadataStore({ connectionString: `postgres://postgres@127.0.0.1:${port}/test` });
    const { registry, dispose } = await conformanceRegistry({ metadata: postgres.store });
    const reported: unknown[] = [];
    try {
      const answer = await readyz(createConanHandler(registry, { health: true, onError: (error) => reported.push(error) }));
      expect(answer.status).toBe(503);
      expect(JSON.parse(answer.text)).toEqual({ status: 'unavailable', checks: { metadata: 'unavailable', blobs: 'ok' } });
      expect(answer.text).not.toContain(String(port));
      expect(reported).toHaveLength(1);
      const error = reported[0] as ReadinessCheckError;
      expect(error).toBeInstanceOf(ReadinessCheckError);
      expect([error.check, error.outcome]).toEqual(['metadata', 'unavailable']);
      expect(error.message).toContain(`127.0.0.1:${port}`);
    } finally {
      await dispose();
      await postgres.close();
    }
  });

  it('answers "timeout" for an S3 that never answers, and says so to onError', async () => {
    const hole = await blackHole();
    const s3 = await startS3();
    // s3rver's client settings, pointed at the black hole.
    const client = s3.client({ endpoint: `http://127.0.0.1:${hole.port}`, maxAttempts: 1 });
    const { registry, dispose } = await conformanceRegistry({ blobs: new S3BlobStore({ client, bucket: 'bucket' }) });
    const reported: unknown[] = [];
    try {
      const handler = createConanHandler(registry, {
        health: { checkTimeoutMs: 200 },
        onError: (error) => reported.push(error),
      });
      const answer = await readyz(handler);
      expect(answer.status).toBe(503);
      expect(JSON.parse(answer.text)).toEqual({ status: 'unavailable', checks: { metadata: 'ok', blobs: 'timeout' } });
      expect(reported.map((e) => [(e as ReadinessCheckError).check, (e as ReadinessCheckError).outcome])).toEqual([
        ['blobs', 'timeout'],
      ]);
      expect((reported[0] as Error).message).toContain('no answer within 200 ms');
    } finally {
      await s3.close();
      await hole.close();
      await dispose();
    }
  });
});
