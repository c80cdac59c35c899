import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { BlobNotFoundError, type BlobStore } from '../storage/blob-store.js';
import { markReleasable } from '../storage/chunk-release.js';
import { withFixture, type Fixture } from './fixture.js';
import { bytesOf, deterministicBytes, digestStream, streamText } from './byte-source.js';

/** The size a stat reports (a store may also report an md5, which the first test checks). */
const sizeOf = (stat: { size: number } | undefined) => stat?.size;

/** What a blob store test file gives the contract: a fresh store and a way to dispose of it. */
export type MakeBlobStore = Fixture<BlobStore>;

export interface BlobStoreContractOptions {
  /** Size of the large-body test. Default 100 MiB. */
  largeBodyBytes?: number;
}

async function collect(body: AsyncIterable<Uint8Array>): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  for await (const chunk of body) chunks.push(chunk);
  return Buffer.concat(chunks);
}

async function keysOf(store: BlobStore, prefix?: string): Promise<string[]> {
  const keys: string[] = [];
  for await (const entry of store.list(prefix)) keys.push(entry.key);
  return keys.sort();
}

/**
 * The behaviour every {@link BlobStore} must have. Call it from a test file
 * with a factory for a fresh, empty store.
 */
export function blobStoreContract(name: string, makeStore: MakeBlobStore, options: BlobStoreContractOptions = {}): void {
  const largeBodyBytes = options.largeBodyBytes ?? 100 * 1024 * 1024;

  const withStore = (test: (store: BlobStore) => Promise<void>) => withFixture(makeStore, test);

  describe(`BlobStore contract: ${name}`, () => {
    it(
      'stores and reads back a blob, with its size (and its md5, if the store tells it)',
      withStore(async (store) => {
        expect(await store.put('blobs/aa/one', bytesOf('hello blob'))).toEqual({ size: 10 });
        const read = await store.get('blobs/aa/one');
        expect(read.size).toBe(10);
        expect(await streamText(read.body)).toBe('hello blob');
        const stat = await store.stat('blobs/aa/one');
        expect(sizeOf(stat)).toBe(10);
        if (stat?.md5 !== undefined) expect(stat.md5).toBe(createHash('md5').update('hello blob').digest('hex'));
      }),
    );

    it(
      'stores an empty blob',
      withStore(async (store) => {
        await store.put('blobs/empty', bytesOf(new Uint8Array(0)));
        expect(sizeOf(await store.stat('blobs/empty'))).toBe(0);
        expect(await streamText((await store.get('blobs/empty')).body)).toBe('');
      }),
    );

    it(
      `streams a large body (${Math.round(largeBodyBytes / 1024 / 1024)} MiB) in and out intact`,
      withStore(async (store) => {
        const { body, sha256 } = deterministicBytes(largeBodyBytes, 7);
        expect(await store.put('blobs/large', body)).toEqual({ size: largeBodyBytes });
        const read = await store.get('blobs/large');
        expect(read.size).toBe(largeBodyBytes);
        expect(await digestStream(read.body)).toEqual({ sha256, size: largeBodyBytes });
      }),
      300_000,
    );

    it(
      'reads exactly the requested byte ranges and reports the whole size',
      withStore(async (store) => {
        await store.put('blobs/range', bytesOf('0123456789abcdef'));
        const range = async (start: number, end: number) => {
          const read = await store.get('blobs/range', { start, end });
          expect(read.size).toBe(16);
          return streamText(read.body);
        };
        expect(await range(2, 5)).toBe('2345');
        expect(await range(10, 15)).toBe('abcdef');
        expect(await range(0, 0)).toBe('0');
        expect(await range(15, 15)).toBe('f');
        expect(await range(0, 15)).toBe('0123456789abcdef');
      }),
    );

    it(
      'reads ranges that cross chunk boundaries of a multi-MiB blob byte-exact',
      withStore(async (store) => {
        const size = 3 * 1024 * 1024 + 5;
        const whole = await collect(deterministicBytes(size, 11).body);
        await store.put('blobs/range-large', deterministicBytes(size, 11).body);
        const mib = 1024 * 1024;
        for (const [start, end] of [
          [mib - 3, mib + 2],
          [mib - 1000, 2 * mib + 1000],
          [size - 7, size - 1],
          [2 * mib, size - 1],
        ] as const) {
          const read = await store.get('blobs/range-large', { start, end });
          expect(read.size).toBe(size);
          const got = await collect(read.body as unknown as AsyncIterable<Uint8Array>);
          expect(got.byteLength, `range ${start}-${end}`).toBe(end - start + 1);
          expect(Buffer.from(got).equals(Buffer.from(whole.subarray(start, end + 1))), `range ${start}-${end}`).toBe(true);
        }
      }),
    );

    it(
      'reports missing blobs: get throws BlobNotFoundError, stat is undefined, delete is fine',
      withStore(async (store) => {
        await expect(store.get('blobs/missing')).rejects.toBeInstanceOf(BlobNotFoundError);
        expect(await store.stat('blobs/missing')).toBeUndefined();
        await expect(store.delete('blobs/missing')).resolves.toBeUndefined();
      }),
    );

    it(
      'deletes blobs',
      withStore(async (store) => {
        await store.put('blobs/gone', bytesOf('x'));
        await store.delete('blobs/gone');
        await expect(store.get('blobs/gone')).rejects.toBeInstanceOf(BlobNotFoundError);
        expect(await store.stat('blobs/gone')).toBeUndefined();
        expect(await keysOf(store)).not.toContain('blobs/gone');
      }),
    );

    it(
      'leaves nothing behind when the source fails midway',
      withStore(async (store) => {
        async function* failing() {
          yield new Uint8Array(64 * 1024).fill(1);
          yield new Uint8Array(64 * 1024).fill(2);
          throw new Error('client went away');
        }
        await expect(store.put('blobs/broken', failing())).rejects.toThrow('client went away');
        expect(await store.stat('blobs/broken')).toBeUndefined();
        expect(await keysOf(store)).toEqual([]);
      }),
    );

    it(
      'replaces a blob written again under the same key',
      withStore(async (store) => {
        await store.put('blobs/again', bytesOf('first'));
        await store.put('blobs/again', bytesOf('second, longer'));
        expect(await streamText((await store.get('blobs/again')).body)).toBe('second, longer');
        expect(sizeOf(await store.stat('blobs/again'))).toBe(14);
      }),
    );

    it(
      'ends consistent after concurrent puts of the same content to one key and to many keys',
      withStore(async (store) => {
        const content = () => deterministicBytes(3 * 1024 * 1024 + 17, 3);
        const { sha256 } = content();
        await Promise.all([
          ...Array.from({ length: 5 }, () => store.put('blobs/same', content().body)),
          ...Array.from({ length: 5 }, (_, i) => store.put(`blobs/many/${i}`, content().body)),
        ]);
        expect(sizeOf(await store.stat('blobs/same'))).toBe(3 * 1024 * 1024 + 17);
        expect(await digestStream((await store.get('blobs/same')).body)).toMatchObject({ sha256 });
        for (let i = 0; i < 5; i++) {
          expect(await digestStream((await store.get(`blobs/many/${i}`)).body)).toMatchObject({ sha256 });
        }
        expect(await keysOf(store)).toEqual(['blobs/many/0', 'blobs/many/1', 'blobs/many/2', 'blobs/many/3', 'blobs/many/4', 'blobs/same']);
      }),
    );

    it(
      'lists blobs under a prefix with sizes and modification times',
      withStore(async (store) => {
        const before = Date.now() - 5_000;
        await store.put('blobs/a/1', bytesOf('1'));
        await store.put('blobs/a/2', bytesOf('22'));
        await store.put('blobs/b/3', bytesOf('333'));
        const listed = [];
        for await (const entry of store.list('blobs/a/')) listed.push(entry);
        listed.sort((x, y) => x.key.localeCompare(y.key));
        expect(listed.map((e) => [e.key, e.size])).toEqual([
          ['blobs/a/1', 1],
          ['blobs/a/2', 2],
        ]);
        for (const entry of listed) {
          expect(entry.lastModified).toBeInstanceOf(Date);
          expect(entry.lastModified.getTime()).toBeGreaterThan(before);
        }
        expect(await keysOf(store)).toEqual(['blobs/a/1', 'blobs/a/2', 'blobs/b/3']);
      }),
    );

    it(
      'serves presigned URLs a plain fetch can download (when the store can presign)',
      withStore(async (store) => {
        if (!store.presignGet) return;
        await store.put('blobs/presigned', bytesOf('fetched directly'));
        const url = await store.presignGet('blobs/presigned', { expiresInSeconds: 60, fileName: 'x.txt' });
        const response = await fetch(url);
        expect(response.status).toBe(200);
        expect(await response.text()).toBe('fetched directly');

        // Binary content of more than one chunk arrives byte-exact too.
        const { body, sha256 } = deterministicBytes(2 * 1024 * 1024 + 3, 13);
        await store.put('blobs/presigned-binary', body);
        const binary = await fetch(await store.presignGet('blobs/presigned-binary', { expiresInSeconds: 60 }));
        expect(binary.status).toBe(200);
        expect(await digestStream(binary.body!)).toEqual({ sha256, size: 2 * 1024 * 1024 + 3 });
      }),
    );

    it(
      'names a local file holding exactly the bytes of a blob, and none for a missing key (when the store has local files)',
      withStore(async (store) => {
        if (!store.localFile) return;
        const size = 2 * 1024 * 1024 + 3;
        const { body, sha256 } = deterministicBytes(size, 17);
        await store.put('blobs/local', body);
        const local = await store.localFile('blobs/local');
        expect(local?.size).toBe(size);
        const hash = createHash('sha256');
        for await (const chunk of createReadStream(local!.path)) hash.update(chunk as Buffer);
        expect(hash.digest('hex')).toBe(sha256);

        await store.put('blobs/local-dir/inner', bytesOf('inside'));
        for (const missing of ['blobs/nothing', 'blobs/local-dir', 'blobs/local/below']) {
          expect(await store.localFile(missing), missing).toBeUndefined();
        }
        await store.delete('blobs/local');
        expect(await store.localFile('blobs/local')).toBeUndefined();
      }),
    );

    it(
      'stores chunks it may free once written (request bodies read from the socket) byte-exact',
      withStore(async (store) => {
        // As the Node bridge hands them over: each chunk has its memory to itself and is
        // marked releasable, so a store that frees one before writing it loses its bytes.
        const { body, sha256 } = deterministicBytes(3 * 1024 * 1024 + 5, 19);
        async function* marked() {
          for await (const chunk of body) {
            markReleasable(chunk);
            yield chunk;
          }
        }
        await store.put('blobs/released', marked());
        expect(await digestStream((await store.get('blobs/released')).body)).toEqual({ sha256, size: 3 * 1024 * 1024 + 5 });
      }),
    );

    it(
      'treats a key that is only a prefix of stored keys, or lies below one, as missing',
      withStore(async (store) => {
        await store.put('blobs/dir/inner', bytesOf('inside'));
        await expect(store.get('blobs/dir')).rejects.toBeInstanceOf(BlobNotFoundError);
        expect(await store.stat('blobs/dir')).toBeUndefined();
        await expect(store.delete('blobs/dir')).resolves.toBeUndefined();
        expect(await streamText((await store.get('blobs/dir/inner')).body)).toBe('inside');
        await expect(store.get('blobs/missing', { start: 0, end: 0 })).rejects.toBeInstanceOf(BlobNotFoundError);

        // ...and a key below a stored blob's key is missing too.
        await store.put('blobs/plain', bytesOf('plain'));
        await expect(store.get('blobs/plain/below')).rejects.toBeInstanceOf(BlobNotFoundError);
        expect(await store.stat('blobs/plain/below')).toBeUndefined();
        await expect(store.delete('blobs/plain/below')).resolves.toBeUndefined();
        expect(await keysOf(store)).toEqual(['blobs/dir/inner', 'blobs/plain']);
      }),
    );

    it(
      'stores chunks that are views into larger buffers byte-exact',
      withStore(async (store) => {
        // Request bodies arrive as Buffers sliced out of shared pools: a store must
        // write the view, not the whole ArrayBuffer behind it.
        const backing = new Uint8Array(64);
        for (let i = 0; i < backing.length; i++) backing[i] = 65 + (i % 26);
        async function* views() {
          yield backing.subarray(3, 7);
          yield backing.subarray(30, 31);
          yield Buffer.from(backing.buffer, 40, 5);
        }
        expect(await store.put('blobs/views', views())).toEqual({ size: 10 });
        expect(await streamText((await store.get('blobs/views')).body)).toBe('DEFGEOPQRS');
      }),
    );

    it(
      'leaves nothing behind when a multi-MiB source fails, or fails before its first byte',
      withStore(async (store) => {
        // Large enough to be past a first multipart part (S3's 5-8 MiB) when it fails.
        async function* failingLate() {
          yield* deterministicBytes(9 * 1024 * 1024 + 1, 21).body;
          throw new Error('client went away late');
        }
        await expect(store.put('blobs/late', failingLate())).rejects.toThrow('client went away late');
        async function* failingEarly(): AsyncIterable<Uint8Array> {
          throw new Error('client went away early');
        }
        await expect(store.put('blobs/early', failingEarly())).rejects.toThrow('client went away early');
        expect(await store.stat('blobs/late')).toBeUndefined();
        expect(await store.stat('blobs/early')).toBeUndefined();
        await expect(store.get('blobs/late')).rejects.toBeInstanceOf(BlobNotFoundError);
        expect(await keysOf(store)).toEqual([]);
      }),
    );

    it(
      'item 10 of issue 8: removes what an interrupted upload left once it is older than the cutoff, never a younger one (when the store can)',
      withStore(async (store) => {
        if (!store.removeAbandonedUploads) return;
        const remove = store.removeAbandonedUploads.bind(store);
        const hour = 60 * 60 * 1000;
        // A cutoff in the future makes the upload below "older": what a crashed one looks like later.
        const later = () => new Date(Date.now() + hour);
        const earlier = () => new Date(Date.now() - hour);
        const nothing = { removed: 0, bytes: 0, failed: [] };
        expect(await remove(later())).toEqual(nothing);

        let cut!: (error: Error) => void;
        const cutOff = new Promise<never>((_, reject) => (cut = reject));
        async function* interrupted() {
          // Past a first multipart part (S3's 5-8 MiB), then the client stalls.
          yield* deterministicBytes(9 * 1024 * 1024 + 1, 23).body;
          await cutOff;
        }
        const pending = store.put('blobs/interrupted', interrupted()).then(
          () => 'stored',
          () => 'failed',
        );
        try {
          let seen = await remove(later(), { dryRun: true });
          for (const deadline = Date.now() + 30_000; (seen.removed === 0 || seen.bytes === 0) && Date.now() < deadline; ) {
            await new Promise((resolve) => setTimeout(resolve, 50));
            seen = await remove(later(), { dryRun: true });
          }
          expect(seen).toMatchObject({ removed: 1, failed: [] });
          expect(seen.bytes).toBeGreaterThan(0);

          // In progress and younger than the cutoff: never touched.
          expect(await remove(earlier())).toEqual(nothing);
          // Neither that nor the dry run removed it.
          expect(await remove(later(), { dryRun: true })).toMatchObject({ removed: 1 });

          const removed = await remove(later());
          expect(removed).toMatchObject({ removed: 1, failed: [] });
          expect(removed.bytes).toBeGreaterThanOrEqual(seen.bytes);
          expect(await remove(later(), { dryRun: true })).toEqual(nothing);
        } finally {
          cut(new Error('client went away'));
        }
        // The upload whose leftovers were removed cannot appear afterwards.
        expect(await pending).toBe('failed');
        expect(await store.stat('blobs/interrupted')).toBeUndefined();
        expect(await keysOf(store)).toEqual([]);
        expect(await remove(later())).toEqual(nothing);
      }),
    );

    it(
      'keeps the previous blob whole when an overwrite fails midway',
      withStore(async (store) => {
        await store.put('blobs/kept', bytesOf('the original content'));
        async function* failing() {
          yield new Uint8Array(128 * 1024).fill(9);
          throw new Error('client went away');
        }
        await expect(store.put('blobs/kept', failing())).rejects.toThrow('client went away');
        expect(sizeOf(await store.stat('blobs/kept'))).toBe(20);
        expect(await streamText((await store.get('blobs/kept')).body)).toBe('the original content');
        expect(await keysOf(store)).toEqual(['blobs/kept']);
      }),
    );

    it(
      'lists nothing in a fresh store, and matches prefixes as strings, not folders',
      withStore(async (store) => {
        expect(await keysOf(store)).toEqual([]);
        expect(await keysOf(store, 'blobs/')).toEqual([]);
        const before = Date.now();
        await store.put('blobs/ab/1', bytesOf('1'));
        await store.put('blobs/a/2', bytesOf('2'));
        await store.put('blobs/b/3', bytesOf('3'));
        const after = Date.now();
        expect(await keysOf(store, 'blobs/a')).toEqual(['blobs/a/2', 'blobs/ab/1']);
        expect(await keysOf(store, 'blobs/ab/')).toEqual(['blobs/ab/1']);
        expect(await keysOf(store, 'nothing/')).toEqual([]);
        for await (const entry of store.list()) {
          // Allow for a backend clock a little off (and second-granular times).
          expect(entry.lastModified.getTime()).toBeGreaterThan(before - 5 * 60_000);
          expect(entry.lastModified.getTime()).toBeLessThan(after + 5 * 60_000);
        }
      }),
    );

    it(
      'serves concurrent reads of one blob independently',
      withStore(async (store) => {
        const size = 2 * 1024 * 1024 + 9;
        const { body, sha256 } = deterministicBytes(size, 17);
        await store.put('blobs/shared', body);
        const whole = await collect(deterministicBytes(size, 17).body);
        const [a, b, c] = await Promise.all([
          store.get('blobs/shared'),
          store.get('blobs/shared', { start: 100, end: 1024 * 1024 + 100 }),
          store.get('blobs/shared', { start: size - 1, end: size - 1 }),
        ]);
        const [da, db, dc] = await Promise.all([
          digestStream(a.body),
          collect(b.body as unknown as AsyncIterable<Uint8Array>),
          collect(c.body as unknown as AsyncIterable<Uint8Array>),
        ]);
        expect(da).toEqual({ sha256, size });
        expect(Buffer.from(db).equals(Buffer.from(whole.subarray(100, 1024 * 1024 + 101)))).toBe(true);
        expect([...dc]).toEqual([whole[size - 1]]);
      }),
    );

    it(
      'answers ping when it has one',
      withStore(async (store) => {
        if (store.ping) await expect(store.ping()).resolves.toBeUndefined();
      }),
    );
  });
}
