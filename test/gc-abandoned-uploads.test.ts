import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { collectGarbage, type BlobStore, type MetadataStore } from '@cimmeria/core';
import { deterministicBytes } from '@cimmeria/core/testing';
import { createSqliteMetadataStore } from '@cimmeria/metadata-sqlite';
import { FsBlobStore } from '@cimmeria/storage-fs';
import { afterEach, describe, expect, it } from 'vitest';
import { postgresBackend, s3Backend } from './support/backends.js';

interface Stores {
  metadata: MetadataStore;
  blobs: BlobStore;
  dispose(): Promise<void>;
}

const sqliteFs = async (): Promise<Stores> => {
  const dir = await mkdtemp(join(tmpdir(), 'cimmeria-gc-uploads-'));
  const sqlite = createSqliteMetadataStore({ filename: join(dir, 'metadata.db') });
  await sqlite.store.migrate();
  return {
    metadata: sqlite.store,
    blobs: new FsBlobStore({ directory: join(dir, 'blobs') }),
    dispose: async () => {
      await sqlite.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
};

const postgresS3 = async (): Promise<Stores> => {
  const [metadata, blobs] = [await postgresBackend(), await s3Backend('gc-uploads')];
  return {
    metadata: metadata.store,
    blobs: blobs.store,
    dispose: async () => {
      await metadata.dispose();
      await blobs.dispose();
    },
  };
};

/**
 * An upload whose client stalls after 9 MiB (past a first S3 part), as one
 * whose node died looks to gc; `cut()` ends it, resolving with how it ended.
 */
function stalledUpload(blobs: BlobStore): { cut(): Promise<string> } {
  let fail!: (error: Error) => void;
  const stalled = new Promise<never>((_, reject) => (fail = reject));
  async function* body() {
    yield* deterministicBytes(9 * 1024 * 1024, 5).body;
    await stalled;
  }
  const ended = blobs.put('blobs/stalled', body()).then(
    () => 'stored',
    () => 'failed',
  );
  return {
    cut: () => {
      fail(new Error('client went away'));
      return ended;
    },
  };
}

for (const [name, open] of [
  ['SQLite + fs', sqliteFs],
  ['PostgreSQL + S3', postgresS3],
] as const) {
  describe(`gc of interrupted uploads: ${name}`, () => {
    let stores: Stores | undefined;
    afterEach(async () => {
      await stores?.dispose();
      stores = undefined;
    });

    it('item 10 of issue 8: collectGarbage removes upload leftovers older than the grace period, keeps them with the default grace and in a dry run', async () => {
      stores = await open();
      const { metadata, blobs } = stores;
      const upload = stalledUpload(blobs);
      try {
        // Wait until the bytes sent so far are in the store.
        let seen = await collectGarbage({ metadata, blobs, graceMs: 0, dryRun: true });
        for (const deadline = Date.now() + 30_000; !seen.abandonedUploads?.bytes && Date.now() < deadline; ) {
          await new Promise((resolve) => setTimeout(resolve, 50));
          seen = await collectGarbage({ metadata, blobs, graceMs: 0, dryRun: true });
        }
        expect(seen).toMatchObject({ dryRun: true, abandonedUploads: { removed: 1 }, failed: [] });
        expect(seen.abandonedUploads!.bytes).toBeGreaterThan(0);

        // The default grace period (a day) keeps an upload this young.
        expect(await collectGarbage({ metadata, blobs })).toMatchObject({ abandonedUploads: { removed: 0, bytes: 0 }, failed: [] });
        expect(await collectGarbage({ metadata, blobs, graceMs: 0, dryRun: true })).toMatchObject({ abandonedUploads: { removed: 1 } });

        const progress: unknown[] = [];
        const report = await collectGarbage({ metadata, blobs, graceMs: 0, onProgress: (p) => progress.push(p.abandonedUploads) });
        expect(report).toMatchObject({ dryRun: false, abandonedUploads: { removed: 1 }, failed: [] });
        expect(report.abandonedUploads!.bytes).toBeGreaterThanOrEqual(seen.abandonedUploads!.bytes);
        expect(progress.at(-1)).toEqual(report.abandonedUploads);
        expect(await collectGarbage({ metadata, blobs, graceMs: 0 })).toMatchObject({ abandonedUploads: { removed: 0, bytes: 0 } });
      } finally {
        expect(await upload.cut()).toBe('failed');
      }
      expect(await blobs.stat('blobs/stalled')).toBeUndefined();
    });
  });
}
