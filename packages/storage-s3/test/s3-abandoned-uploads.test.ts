import {
  CreateMultipartUploadCommand,
  ListMultipartUploadsCommand,
  UploadPartCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { S3BlobStore } from '../src/index.js';
import { failCommand } from './support/record.js';
import { startS3, type TestS3 } from './support/s3rver.js';

let s3: TestS3;
beforeAll(async () => {
  s3 = await startS3();
});
afterAll(async () => {
  await s3?.close();
});

const hour = 60 * 60 * 1000;
const later = () => new Date(Date.now() + hour);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A multipart upload as a node killed mid-upload leaves it: started, some parts sent, never completed. */
async function leaveUpload(client: S3Client, bucket: string, Key: string, partSizes: number[]): Promise<string> {
  const { UploadId } = await client.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key }));
  for (const [i, size] of partSizes.entries()) {
    await client.send(new UploadPartCommand({ Bucket: bucket, Key, UploadId, PartNumber: i + 1, Body: new Uint8Array(size) }));
  }
  return UploadId!;
}

async function pendingKeys(client: S3Client, bucket: string): Promise<string[]> {
  const { Uploads = [] } = await client.send(new ListMultipartUploadsCommand({ Bucket: bucket }));
  return Uploads.map((u) => u.Key!).sort();
}

describe('S3BlobStore abandoned multipart uploads', () => {
  it('item 10 of issue 8: aborts the uploads under its prefix started before the cutoff, counting their parts, and never one outside its prefix', async () => {
    const client = s3.client();
    const bucket = await s3.createBucket(client);
    const store = new S3BlobStore({ client, bucket, prefix: 'cimmeria/' });
    await leaveUpload(client, bucket, 'cimmeria/blobs/aa/one', [3000, 1000]);
    await leaveUpload(client, bucket, 'cimmeria/blobs/bb/two', [500]);
    await leaveUpload(client, bucket, 'elsewhere/theirs', [100]);
    await leaveUpload(client, bucket, 'cimmeria-other/theirs', [100]);
    const all = ['cimmeria-other/theirs', 'cimmeria/blobs/aa/one', 'cimmeria/blobs/bb/two', 'elsewhere/theirs'];

    // Younger than the cutoff: kept.
    expect(await store.removeAbandonedUploads(new Date(Date.now() - hour))).toEqual({ removed: 0, bytes: 0, failed: [] });
    expect(await store.removeAbandonedUploads(later(), { dryRun: true })).toEqual({ removed: 2, bytes: 4500, failed: [] });
    expect(await pendingKeys(client, bucket)).toEqual(all);

    expect(await store.removeAbandonedUploads(later())).toEqual({ removed: 2, bytes: 4500, failed: [] });
    expect(await pendingKeys(client, bucket)).toEqual(['cimmeria-other/theirs', 'elsewhere/theirs']);
    expect(await s3.partBytesOnDisk(bucket)).toBe(200);
  });

  it('item 10 of issue 8: keeps an upload started before the cutoff that received a part after it', async () => {
    const client = s3.client();
    const bucket = await s3.createBucket(client);
    const store = new S3BlobStore({ client, bucket });
    const Key = 'blobs/slow';
    const { UploadId } = await client.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key }));
    await sleep(50);
    const cutoff = new Date();
    await sleep(50);
    await client.send(new UploadPartCommand({ Bucket: bucket, Key, UploadId, PartNumber: 1, Body: new Uint8Array(10) }));

    expect(await store.removeAbandonedUploads(cutoff)).toEqual({ removed: 0, bytes: 0, failed: [] });
    expect(await pendingKeys(client, bucket)).toEqual([Key]);
    expect(await store.removeAbandonedUploads(later())).toEqual({ removed: 1, bytes: 10, failed: [] });
    expect(await pendingKeys(client, bucket)).toEqual([]);
  });

  it('item 10 of issue 8: reports an upload it could not abort, without counting it', async () => {
    const client = s3.client();
    const bucket = await s3.createBucket(client);
    const store = new S3BlobStore({ client, bucket });
    const uploadId = await leaveUpload(client, bucket, 'blobs/stuck', [10]);
    failCommand(client, 'AbortMultipartUploadCommand', new Error('abort refused'));

    expect(await store.removeAbandonedUploads(later())).toEqual({
      removed: 0,
      bytes: 0,
      failed: [{ id: `blobs/stuck (upload ${uploadId})`, message: 'abort refused' }],
    });
    expect(await pendingKeys(client, bucket)).toEqual(['blobs/stuck']);
  });
});
