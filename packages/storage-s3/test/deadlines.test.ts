import { BlobStoreUnavailableError } from '@cimmeria/core';
import { bytesOf, deterministicBytes, digestStream } from '@cimmeria/core/testing';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { BlackholeRelay } from '../../../test/support/blackhole-relay.js';
import { settle } from '../../../test/support/settle.js';
import { S3BlobStore, s3ClientFromUrl, type S3BlobStoreOptions } from '../src/index.js';
import { startS3, type TestS3 } from './support/s3rver.js';

// Issue 8, item 6: a silent network partition (packets dropped, no reset) between the node and
// S3 must not hang blob calls. The store talks to s3rver through a relay the tests black-hole.

const MiB = 1024 * 1024;
const REQUEST_TIMEOUT_MS = 500;
const IDLE_TIMEOUT_MS = 800;

let s3: TestS3;
beforeAll(async () => {
  s3 = await startS3();
});
afterAll(async () => {
  await s3?.close();
});

const cleanups: Array<() => Promise<unknown> | unknown> = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()!();
});

/**
 * A store on a fresh bucket, reached through a relay. The client is a plain one with no
 * socket timeouts of its own (as a host might inject): the store's deadlines are what bound it.
 * They are tight, to keep the tests short; `relaxed` is the same store with the default
 * deadlines, for the set-up and checks around the partition (s3rver runs in this process, and
 * on a loaded machine a large transfer may pause for longer than the tight deadlines).
 */
async function storeBehindRelay(options: Partial<S3BlobStoreOptions> = {}) {
  const bucket = await s3.createBucket(s3.client());
  const relay = await BlackholeRelay.forUrl(s3.endpoint, 80);
  cleanups.push(() => relay.close());
  cleanups.push(() => relay.heal());
  const client = s3.client({ endpoint: relay.urlFor(s3.endpoint).replace(/\/$/, '') });
  const store = new S3BlobStore({
    client,
    bucket,
    prefix: 'cimmeria',
    requestTimeoutMs: REQUEST_TIMEOUT_MS,
    idleTimeoutMs: IDLE_TIMEOUT_MS,
    ...options,
  });
  const relaxed = new S3BlobStore({ client, bucket, prefix: 'cimmeria' });
  return { store, relaxed, relay, client, bucket };
}

/** Expects `call` to fail with BlobStoreUnavailableError within `withinMs`. */
async function expectUnavailableWithin(call: Promise<unknown>, withinMs: number, what: string) {
  const result = await settle(call, withinMs + 5_000);
  expect(result.outcome, what).toBe('rejected');
  expect((result as { error: unknown }).error, what).toBeInstanceOf(BlobStoreUnavailableError);
  expect(result.ms, what).toBeLessThan(withinMs);
}

async function drain(iterable: AsyncIterable<unknown>): Promise<void> {
  for await (const _ of iterable) {
    // only walking it
  }
}

describe('item 6 of issue 8: S3 behind a silent network partition', () => {
  it('item 6: stat, delete, list, ping and get fail as unavailable within requestTimeoutMs, then work after the partition without a new store', async () => {
    const { store, relay } = await storeBehindRelay();
    await store.put('blobs/a', bytesOf('some bytes'));
    expect(await store.stat('blobs/a')).toMatchObject({ size: 10 });

    relay.blackhole();
    const bound = 3 * REQUEST_TIMEOUT_MS + 500;
    await expectUnavailableWithin(store.stat('blobs/a'), bound, 'stat');
    await expectUnavailableWithin(store.delete('blobs/other'), bound, 'delete');
    await expectUnavailableWithin(drain(store.list()), bound, 'list');
    await expectUnavailableWithin(store.ping(), bound, 'ping');
    await expectUnavailableWithin(store.get('blobs/a'), bound, 'get');

    relay.heal();
    expect(await store.stat('blobs/a')).toMatchObject({ size: 10 });
    expect(await new Response((await store.get('blobs/a')).body).text()).toBe('some bytes');
  });

  it('item 6: uploads (one part, or multipart) fail as unavailable within the deadlines, then succeed after the partition', async () => {
    const { store, relaxed, relay } = await storeBehindRelay();
    await store.put('blobs/warm', bytesOf('warm'));

    relay.blackhole();
    await expectUnavailableWithin(store.put('blobs/small', bytesOf('small file')), 3 * IDLE_TIMEOUT_MS + 500, 'single-part put');
    // Multipart: CreateMultipartUpload gets no answer.
    await expectUnavailableWithin(
      store.put('blobs/large', deterministicBytes(11 * MiB, 3).body),
      3 * (REQUEST_TIMEOUT_MS + IDLE_TIMEOUT_MS) + 500,
      'multipart put',
    );

    relay.heal();
    expect(await store.put('blobs/small', bytesOf('small file'))).toEqual({ size: 10 });
    const large = deterministicBytes(11 * MiB, 4);
    expect(await relaxed.put('blobs/large', large.body)).toEqual({ size: 11 * MiB });
    expect(await digestStream((await relaxed.get('blobs/large')).body)).toEqual({ sha256: large.sha256, size: 11 * MiB });
  });

  it('item 6: a multipart upload cut off in the middle of its parts fails as unavailable within the idle timeout', async () => {
    const { store, relaxed, relay } = await storeBehindRelay();
    await store.put('blobs/warm', bytesOf('warm'));
    // The network goes silent once 9 MiB of a 24 MiB body were read: the second part is on its way.
    async function* body() {
      let sent = 0;
      for await (const chunk of deterministicBytes(24 * MiB, 7).body) {
        if (sent >= 9 * MiB && !relay.blackholed) relay.blackhole();
        sent += chunk.byteLength;
        yield chunk;
      }
    }
    await expectUnavailableWithin(store.put('blobs/cut', body()), 3 * (IDLE_TIMEOUT_MS + REQUEST_TIMEOUT_MS) + 1_000, 'multipart put');
    relay.heal();
    expect(await relaxed.stat('blobs/cut')).toBeUndefined();
  });

  it('item 6: a download whose body stalls mid-way fails as unavailable instead of leaving its reader waiting', async () => {
    const { store, relaxed, relay } = await storeBehindRelay();
    await relaxed.put('blobs/big', deterministicBytes(24 * MiB, 5).body);
    const { body } = await store.get('blobs/big');
    const reader = body.getReader();
    expect((await reader.read()).done).toBe(false);

    relay.blackhole();
    const readAll = (async () => {
      for (;;) if ((await reader.read()).done) return;
    })();
    await expectUnavailableWithin(readAll, 3 * IDLE_TIMEOUT_MS + 1_000, 'download body');
  });

  it('item 6: a slow reader of a download is not cut off by the idle timeout', async () => {
    const { store, relaxed } = await storeBehindRelay({ idleTimeoutMs: 1_000 });
    const { body: source, sha256 } = deterministicBytes(3 * MiB, 6);
    await relaxed.put('blobs/slow', source);
    const { body } = await store.get('blobs/slow');
    const reader = body.getReader();
    const chunks: Uint8Array[] = [];
    for (let i = 0; ; i++) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      // The reader (a client on a slow link) takes longer than the idle timeout between reads.
      if (i < 3) await new Promise((resolve) => setTimeout(resolve, 1_500));
    }
    expect(await digestStream(new Blob(chunks as BlobPart[]).stream())).toEqual({ sha256, size: 3 * MiB });
  });

  it("item 6: s3ClientFromUrl's client gives up on a silent socket after its idle timeout, whatever the store's deadlines", async () => {
    const bucket = await s3.createBucket(s3.client());
    const relay = await BlackholeRelay.forUrl(s3.endpoint, 80);
    cleanups.push(() => relay.close());
    const endpoint = relay.urlFor(s3.endpoint).replace(/\/$/, '');
    const url = `s3://${bucket}?endpoint=${encodeURIComponent(endpoint)}&forcePathStyle=true&accessKeyId=S3RVER&secretAccessKey=S3RVER`;
    const { client } = s3ClientFromUrl(url, { maxAttempts: 1 }, { idleTimeoutMs: 400 });
    cleanups.push(() => client.destroy());
    const store = new S3BlobStore({ client, bucket, requestTimeoutMs: 60_000, idleTimeoutMs: 60_000 });
    await store.put('blobs/a', bytesOf('a'));

    relay.blackhole();
    await expectUnavailableWithin(store.stat('blobs/a'), 3_000, 'stat through a client with socket timeouts');
    relay.heal();
    expect(await store.stat('blobs/a')).toMatchObject({ size: 1 });
  });
});
