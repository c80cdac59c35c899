import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { S3BlobStore } from '../src/index.js';
import { startS3, type TestS3 } from './support/s3rver.js';

let s3: TestS3;
beforeAll(async () => {
  s3 = await startS3();
});
afterAll(async () => {
  await s3?.close();
});

describe('S3BlobStore.presignPut (Conan 1 uploads straight to the store)', () => {
  it('gives a URL a client PUTs the bytes to as Conan 1 does: a signed `signature` parameter, the length signed, no checksum of an empty body', async () => {
    const client = s3.client();
    const store = new S3BlobStore({ client, bucket: await s3.createBucket(client), prefix: 'p/' });
    const bytes = new TextEncoder().encode('conan_package.tgz bytes');
    const url = new URL(await store.presignPut!('blobs/ab/one', { expiresInSeconds: 60, contentLength: bytes.byteLength }));
    expect(url.searchParams.get('signature')).not.toBeNull();
    expect(url.searchParams.get('X-Amz-SignedHeaders')).toBe('content-length;host');
    expect([...url.searchParams.keys()].filter((k) => /checksum/i.test(k))).toEqual([]);
    // What the client sends: the bytes, Content-Length, X-Checksum-Sha1 (ignored by S3); no Authorization.
    const put = await fetch(url, { method: 'PUT', body: bytes, headers: { 'x-checksum-sha1': createHash('sha1').update(bytes).digest('hex') } });
    expect(put.status).toBe(200);
    expect(await store.stat('blobs/ab/one')).toEqual({ size: bytes.byteLength, md5: createHash('md5').update(bytes).digest('hex') });
  });

  it('is absent when presigning is off', () => {
    const store = new S3BlobStore({ client: s3.client(), bucket: 'b', presign: false });
    expect(store.presignPut).toBeUndefined();
  });
});
