import { afterAll, beforeAll } from 'vitest';
import { startS3, type TestS3 } from '../../../storage-s3/test/support/s3rver.js';

/**
 * An in-process s3rver with one fresh bucket, for all the tests of the enclosing file or
 * `describe`: started before them, closed after them.
 */
export function s3BucketForAll(): { readonly endpoint: string; readonly bucket: string } {
  let s3: TestS3 | undefined;
  let bucket: string | undefined;
  beforeAll(async () => {
    s3 = await startS3();
    bucket = await s3.createBucket(s3.client());
  });
  afterAll(async () => {
    await s3?.close();
  });
  const started = () => {
    if (!s3 || bucket === undefined) throw new Error('s3BucketForAll: used outside a test');
    return { s3, bucket };
  };
  return {
    get endpoint() {
      return started().s3.endpoint;
    },
    get bucket() {
      return started().bucket;
    },
  };
}
