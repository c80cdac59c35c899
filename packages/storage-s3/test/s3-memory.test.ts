import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { deterministicBytes, digestStream } from '@cimmeria/core/testing';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { S3BlobStore } from '../src/index.js';
import { startS3, type TestS3 } from './support/s3rver.js';

// Its own file, so its own worker process: nothing else's garbage in the numbers.

const MiB = 1024 * 1024;

let s3: TestS3;
beforeAll(async () => {
  s3 = await startS3();
});
afterAll(async () => {
  await s3?.close();
});

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

/**
 * Peak growth of memory while `work` runs, sampled every 100 ms after a full
 * garbage collection (without it the numbers swing with whatever garbage V8
 * has not collected yet, from a few MiB to most of the body).
 */
async function peakGrowth(work: () => Promise<void>): Promise<{ rss: number; arrayBuffers: number; samples: number }> {
  gc();
  const start = process.memoryUsage();
  const peak = { rss: start.rss, arrayBuffers: start.arrayBuffers, samples: 0 };
  const sample = () => {
    gc();
    peak.samples++;
    const now = process.memoryUsage();
    peak.rss = Math.max(peak.rss, now.rss);
    peak.arrayBuffers = Math.max(peak.arrayBuffers, now.arrayBuffers);
  };
  const timer = setInterval(sample, 100);
  try {
    await work();
  } finally {
    clearInterval(timer);
  }
  return { rss: peak.rss - start.rss, arrayBuffers: peak.arrayBuffers - start.arrayBuffers, samples: peak.samples };
}

it('keeps memory bounded by part size x queue size while putting 100 MiB', async () => {
  const partSizeBytes = 5 * MiB;
  const queueSize = 2;
  const client = s3.client();
  const bucket = await s3.createBucket(client);
  const store = new S3BlobStore({ client, bucket, partSizeBytes, queueSize });
  // Warm up the client, the connection pool and s3rver on a small multipart upload first.
  await store.put('blobs/warmup', deterministicBytes(11 * MiB, 1).body);

  const size = 100 * MiB;
  const { body, sha256 } = deterministicBytes(size, 2);
  // How far reading the body ever got ahead of what had reached S3's disk.
  let produced = 0;
  let maxAhead = 0;
  async function* watched() {
    for await (const chunk of body) {
      maxAhead = Math.max(maxAhead, produced - (await s3.partBytesOnDisk(bucket)));
      produced += chunk.byteLength;
      yield chunk;
    }
  }

  const growth = await peakGrowth(async () => {
    expect(await store.put('blobs/large', watched())).toEqual({ size });
  });
  const mib = (n: number) => `${(n / MiB).toFixed(1)} MiB`;
  console.log(
    `100 MiB put, ${queueSize} x ${mib(partSizeBytes)} parts: read ahead of storage by at most ${mib(maxAhead)}; ` +
      `peak live growth rss ${mib(growth.rss)}, arrayBuffers ${mib(growth.arrayBuffers)} (${growth.samples} samples)`,
  );
  // Measured: ahead 11 MiB every run, arrayBuffers ~20-40 MiB, rss ~20-50 MiB. Buffering
  // the whole body first: ahead 99 MiB, arrayBuffers ~60-115 MiB, rss ~60-125 MiB.
  expect(maxAhead).toBeLessThanOrEqual((queueSize + 2) * partSizeBytes);
  expect(growth.samples).toBeGreaterThan(5);
  expect(growth.arrayBuffers).toBeLessThan(60 * MiB);
  expect(growth.rss).toBeLessThan(90 * MiB);
  expect(await digestStream((await store.get('blobs/large')).body)).toEqual({ sha256, size });
}, 120_000);
