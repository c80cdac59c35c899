import { ListMultipartUploadsCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { BlobNotFoundError, BlobStoreUnavailableError, type BlobStore } from '@cimmeria/core';
import { blobStoreContract, bytesOf, deterministicBytes, digestStream } from '@cimmeria/core/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { S3BlobStore, type S3BlobStoreOptions } from '../src/index.js';
import { contentDisposition } from '../src/s3-blob-store.js';
import { failCommand, recordCommands } from './support/record.js';
import { deadPort, startS3, type TestS3 } from './support/s3rver.js';

const MiB = 1024 * 1024;

let s3: TestS3;
beforeAll(async () => {
  s3 = await startS3();
});
afterAll(async () => {
  await s3?.close();
});

/** A fresh bucket with an object outside the store's prefix, which the store must never see. */
async function freshBucket(client: S3Client): Promise<string> {
  const bucket = await s3.createBucket(client);
  await client.send(new PutObjectCommand({ Bucket: bucket, Key: 'elsewhere/decoy', Body: 'not a blob' }));
  return bucket;
}

async function makeStore(options: Partial<S3BlobStoreOptions> = {}) {
  const client = options.client ?? s3.client();
  const bucket = options.bucket ?? (await freshBucket(client));
  const store = new S3BlobStore({ client, bucket, prefix: 'cimmeria/', ...options });
  return {
    store,
    client,
    bucket,
    // Keep s3rver's temp directory small between tests.
    dispose: async () => {
      for await (const { key } of store.list()) await store.delete(key);
    },
  };
}

async function keysOf(store: BlobStore, prefix?: string): Promise<string[]> {
  const keys: string[] = [];
  for await (const entry of store.list(prefix)) keys.push(entry.key);
  return keys.sort();
}

async function pendingUploads(client: S3Client, bucket: string) {
  return (await client.send(new ListMultipartUploadsCommand({ Bucket: bucket }))).Uploads ?? [];
}

/** `size` deterministic bytes, then the source fails as a client that went away. */
async function* failingAfter(size: number) {
  yield* deterministicBytes(size, 9).body;
  throw new Error('client went away');
}

blobStoreContract('S3BlobStore on s3rver', () => makeStore(), { largeBodyBytes: 100 * MiB });

describe('S3BlobStore uploads', () => {
  it('streams a multi-part upload: several UploadPart of partSizeBytes, completed once', async () => {
    const { store, client, bucket, dispose } = await makeStore();
    const sent = recordCommands(client);
    try {
      const { body, sha256 } = deterministicBytes(12 * MiB + 5, 4);
      expect(await store.put('blobs/parts', body)).toEqual({ size: 12 * MiB + 5 });
      const parts = sent.filter((c) => c.command === 'UploadPartCommand');
      // Default part size 8 MiB: a full part, then the rest.
      expect(parts.map((p) => [p.input.PartNumber, (p.input.Body as Uint8Array).byteLength]).sort()).toEqual([
        [1, 8 * MiB],
        [2, 4 * MiB + 5],
      ]);
      expect(sent.filter((c) => c.command === 'CompleteMultipartUploadCommand')).toHaveLength(1);
      expect(await digestStream((await store.get('blobs/parts')).body)).toEqual({ sha256, size: 12 * MiB + 5 });
      expect(await pendingUploads(client, bucket)).toEqual([]);
    } finally {
      await dispose();
    }
  });

  it('aborts the multipart upload when the body fails after several parts: no object, no upload left', async () => {
    const { store, client, bucket, dispose } = await makeStore({ partSizeBytes: 5 * MiB, queueSize: 2 });
    const sent = recordCommands(client);
    try {
      await expect(store.put('blobs/aborted', failingAfter(12 * MiB))).rejects.toThrow('client went away');
      expect(await store.stat('blobs/aborted')).toBeUndefined();
      await expect(store.get('blobs/aborted')).rejects.toBeInstanceOf(BlobNotFoundError);
      expect(await keysOf(store)).toEqual([]);

      // The failure really came mid-multipart-upload, and that upload was aborted.
      const created = sent.find((c) => c.command === 'CreateMultipartUploadCommand');
      expect(created?.output?.UploadId).toBeTruthy();
      expect(sent.filter((c) => c.command === 'UploadPartCommand').length).toBeGreaterThanOrEqual(2);
      expect(sent.some((c) => c.command === 'CompleteMultipartUploadCommand')).toBe(false);
      const aborts = sent.filter((c) => c.command === 'AbortMultipartUploadCommand');
      expect(aborts.map((a) => a.input.UploadId)).toEqual([created?.output?.UploadId]);
      expect(aborts[0]?.error).toBeUndefined();
      expect(await pendingUploads(client, bucket)).toEqual([]);
    } finally {
      await dispose();
    }
  });

  it("rethrows the body's error even when the abort itself fails", async () => {
    const { store, client, bucket, dispose } = await makeStore();
    failCommand(client, 'AbortMultipartUploadCommand', new Error('abort refused'));
    try {
      await expect(store.put('blobs/abort-fails', failingAfter(10 * MiB))).rejects.toThrow('client went away');
      expect(await store.stat('blobs/abort-fails')).toBeUndefined();
      // Here the parts stay: the bucket's AbortIncompleteMultipartUpload lifecycle rule is what removes them.
      expect(await pendingUploads(client, bucket)).toHaveLength(1);
    } finally {
      await dispose();
    }
  });

  it('stops reading the body when S3 refuses the upload', async () => {
    const client = s3.client({ maxAttempts: 1 });
    const store = new S3BlobStore({ client, bucket: 'no-such-bucket' });
    let produced = 0;
    let closed = false;
    async function* endless() {
      try {
        for (;;) {
          produced += MiB;
          yield new Uint8Array(MiB);
        }
      } finally {
        closed = true;
      }
    }
    await expect(store.put('blobs/x', endless())).rejects.toBeInstanceOf(BlobStoreUnavailableError);
    expect(closed).toBe(true);
    expect(produced).toBeLessThan(64 * MiB);
  });

  it('refuses part sizes S3 would refuse', () => {
    const client = s3.client();
    expect(() => new S3BlobStore({ client, bucket: 'abc', partSizeBytes: 4 * MiB })).toThrow(/at least/);
    expect(() => new S3BlobStore({ client, bucket: 'abc', queueSize: 0 })).toThrow(/queueSize/);
  });
});

describe('S3BlobStore keys and listing', () => {
  it('lists across pages, relative to its prefix, and never sees objects outside it', async () => {
    const { store, client, bucket, dispose } = await makeStore({ listPageSize: 2 });
    const sent = recordCommands(client);
    try {
      for (const key of ['a/1', 'a/2', 'a/3', 'b/1', 'b/2']) await store.put(key, bytesOf(key));
      // Same bucket, a prefix that only shares characters with ours.
      await client.send(new PutObjectCommand({ Bucket: bucket, Key: 'cimmeria-other/a/9', Body: 'x' }));
      expect(await keysOf(store)).toEqual(['a/1', 'a/2', 'a/3', 'b/1', 'b/2']);
      expect(await keysOf(store, 'a/')).toEqual(['a/1', 'a/2', 'a/3']);
      expect(sent.filter((c) => c.command === 'ListObjectsV2Command').length).toBeGreaterThanOrEqual(3 + 2);
      expect(sent.filter((c) => c.command === 'ListObjectsV2Command').every((c) => c.input.MaxKeys === 2)).toBe(true);
    } finally {
      await dispose();
    }
  });

  it('stores at the bucket root without a prefix, and normalizes slashes of a prefix', async () => {
    const client = s3.client();
    const bucket = await s3.createBucket(client);
    const root = new S3BlobStore({ client, bucket });
    await root.put('blobs/one', bytesOf('1'));
    const slashed = new S3BlobStore({ client, bucket, prefix: '/blobs/' });
    expect(slashed.prefix).toBe('blobs/');
    expect(await keysOf(slashed)).toEqual(['one']);
    expect(await keysOf(root)).toEqual(['blobs/one']);
  });
});

describe('S3BlobStore presigned URLs', () => {
  it('presigns URLs a plain fetch downloads, as an attachment with the file name', async () => {
    const { store, dispose } = await makeStore();
    try {
      await store.put('blobs/p', bytesOf('presigned bytes'));
      const url = await store.presignGet!('blobs/p', { expiresInSeconds: 60, fileName: 'conan_package.tgz' });
      const response = await fetch(url);
      expect(response.status).toBe(200);
      expect(response.headers.get('content-disposition')).toBe('attachment; filename="conan_package.tgz"');
      expect(await response.text()).toBe('presigned bytes');      // s3rver checks neither SigV4 signatures nor anonymous access, only expiry (below):
      // a tampered or missing signature would pass here, so none is tested.
    } finally {
      await dispose();
    }
  });

  it('presigned URLs expire', async () => {
    const { store, dispose } = await makeStore();
    try {
      await store.put('blobs/short', bytesOf('soon gone'));
      // X-Amz-Date has whole seconds: sign early in a second so "1 s" is a full second.
      while (Date.now() % 1000 > 200) await new Promise((resolve) => setTimeout(resolve, 20));
      const signedAt = Date.now();
      const url = await store.presignGet!('blobs/short', { expiresInSeconds: 1 });
      expect(new URL(url).searchParams.get('X-Amz-Expires')).toBe('1');
      expect((await fetch(url)).status).toBe(200);
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, signedAt + 2100 - Date.now())));
      const expired = await fetch(url);
      expect(expired.status).toBe(403);
      expect(await expired.text()).toMatch(/expired/i);
    } finally {
      await dispose();
    }
  });

  it('has no presignGet with presign: false, so the handler streams', () => {
    const store = new S3BlobStore({ client: s3.client(), bucket: 'abc', presign: false });
    expect(store.presignGet).toBeUndefined();
  });

  it('quotes file names safely in Content-Disposition', () => {
    expect(contentDisposition('conanfile.py')).toBe('attachment; filename="conanfile.py"');
    expect(contentDisposition('a"b\\c.txt')).toBe(`attachment; filename="a_b_c.txt"; filename*=UTF-8''a%22b%5Cc.txt`);
    expect(contentDisposition('héllo.txt')).toBe(`attachment; filename="h_llo.txt"; filename*=UTF-8''h%C3%A9llo.txt`);
  });
});

describe('S3BlobStore errors', () => {
  it('reports an unreachable store as BlobStoreUnavailableError on every operation', async () => {
    const client = s3.client({ endpoint: `http://127.0.0.1:${await deadPort()}`, maxAttempts: 1 });
    const store = new S3BlobStore({ client, bucket: 'abc' });
    const unavailable = expect.any(BlobStoreUnavailableError);
    await expect(store.put('blobs/x', bytesOf('x'))).rejects.toEqual(unavailable);
    await expect(store.put('blobs/x', deterministicBytes(11 * MiB).body)).rejects.toEqual(unavailable);
    await expect(store.get('blobs/x')).rejects.toEqual(unavailable);
    await expect(store.get('blobs/x', { start: 0, end: 1 })).rejects.toEqual(unavailable);
    await expect(store.stat('blobs/x')).rejects.toEqual(unavailable);
    await expect(store.delete('blobs/x')).rejects.toEqual(unavailable);
    await expect(keysOf(store)).rejects.toEqual(unavailable);
    await expect(store.ping()).rejects.toEqual(unavailable);
    const error = await store.stat('blobs/x').catch((e: Error) => e);
    expect((error as Error).message).toMatch(/ECONNREFUSED/);
    // Signing is local: a URL can still be made (the client will find the store down).
    expect(await store.presignGet!('blobs/x', { expiresInSeconds: 60 })).toMatch(/^http:/);
  });

  it('reports a missing bucket as unavailable on ping', async () => {
    const store = new S3BlobStore({ client: s3.client({ maxAttempts: 1 }), bucket: 'no-such-bucket' });
    await expect(store.ping()).rejects.toBeInstanceOf(BlobStoreUnavailableError);
    await expect(store.get('blobs/x')).rejects.toBeInstanceOf(BlobStoreUnavailableError);
  });

  it('reads ranges of a missing blob as BlobNotFoundError', async () => {
    const { store, dispose } = await makeStore();
    try {
      await expect(store.get('blobs/none', { start: 0, end: 3 })).rejects.toBeInstanceOf(BlobNotFoundError);
    } finally {
      await dispose();
    }
  });
});
