import { mkdir, mkdtemp, readdir, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { modeOf, underLoginShellUmask } from '../../../test/support/file-modes.js';
import { blobStoreContract, bytesOf } from '@cimmeria/core/testing';
import { FsBlobStore } from '../src/index.js';

async function makeStore() {
  const directory = await mkdtemp(join(tmpdir(), 'cimmeria-fs-'));
  return { store: new FsBlobStore({ directory }), dispose: () => rm(directory, { recursive: true, force: true }) };
}

blobStoreContract('FsBlobStore', makeStore);

it('refuses keys that would leave its directory', async () => {
  const parent = await mkdtemp(join(tmpdir(), 'cimmeria-fs-parent-'));
  const store = new FsBlobStore({ directory: join(parent, 'blobs') });
  try {
    for (const key of ['../outside', 'blobs/../../outside', '/etc/passwd', 'blobs//x', 'Blobs/UPPER', 'blobs/./x', '..']) {
      await expect(store.put(key, bytesOf('x')), key).rejects.toThrow(/Invalid blob key/);
      await expect(store.get(key), key).rejects.toThrow(/Invalid blob key/);
      await expect(store.delete(key), key).rejects.toThrow(/Invalid blob key/);
    }
    // Nothing was written next to the store's directory.
    expect((await readdir(parent)).filter((name) => name !== 'blobs')).toEqual([]);
    await expect(stat(join(parent, 'outside'))).rejects.toMatchObject({ code: 'ENOENT' });
  } finally {
    await rm(parent, { recursive: true, force: true });
  }
});

it('removes its temporary file when an upload fails midway', async () => {
  const { store, dispose } = await makeStore();
  try {
    async function* failing() {
      yield new Uint8Array(256 * 1024).fill(7);
      throw new Error('client went away');
    }
    await expect(store.put('blobs/broken', failing())).rejects.toThrow('client went away');
    expect(await readdir(join(store.directory, '.tmp')).catch(() => [])).toEqual([]);
  } finally {
    await dispose();
  }
});

it('reports the size of the very file it streams while the key is being overwritten', async () => {
  // A blob is opened before its size is read: a rename over the key between
  // the two must not pair one blob's size with the other's bytes.
  const { store, dispose } = await makeStore();
  const small = 'small';
  const large = 'L'.repeat(200 * 1024);
  let writing = true;
  try {
    await store.put('blobs/flip', bytesOf(small));
    const writer = (async () => {
      for (let i = 0; writing; i++) await store.put('blobs/flip', bytesOf(i % 2 ? small : large));
    })();
    try {
      for (let i = 0; i < 100; i++) {
        const reads = await Promise.all(
          Array.from({ length: 4 }, async () => {
            const read = await store.get('blobs/flip');
            return { size: read.size, text: await new Response(read.body).text() };
          }),
        );
        for (const { size, text } of reads) {
          expect([small, large]).toContain(text);
          expect(size, 'size reported with the bytes').toBe(text.length);
        }
      }
    } finally {
      writing = false;
      await writer;
    }
  } finally {
    await dispose();
  }
});

describe('FsBlobStore file modes', () => {
  underLoginShellUmask();
  it('item 11 of issue 8: under umask 022, creates its folders 0700 and blob and temporary files 0600', async () => {
    const parent = await mkdtemp(join(tmpdir(), 'cimmeria-fs-mode-'));
    const directory = join(parent, 'blobs');
    const store = new FsBlobStore({ directory });
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    async function* stalled() {
      yield new Uint8Array(64 * 1024).fill(1);
      await released;
    }
    try {
      await store.put('blobs/ab/cd/one', bytesOf('private bytes'));
      // An upload in progress: its temporary file is private too.
      const pending = store.put('blobs/ab/two', stalled());
      let temps: string[] = [];
      for (let i = 0; i < 200 && temps.length === 0; i++) {
        temps = await readdir(join(directory, '.tmp'));
        if (temps.length === 0) await new Promise((resolve) => setTimeout(resolve, 10));
      }
      expect(temps).toHaveLength(1);
      expect(await modeOf(join(directory, '.tmp', temps[0]!))).toBe(0o600);
      release();
      await pending;

      for (const dir of ['', '.tmp', 'blobs', 'blobs/ab', 'blobs/ab/cd']) expect(await modeOf(join(directory, dir)), dir || '.').toBe(0o700);
      for (const file of ['blobs/ab/cd/one', 'blobs/ab/two']) expect(await modeOf(join(directory, file)), file).toBe(0o600);
    } finally {
      release();
      await rm(parent, { recursive: true, force: true });
    }
  });
});

describe('FsBlobStore abandoned uploads', () => {
  const hour = 60 * 60 * 1000;

  /** A temporary file as a process killed mid-upload leaves it, last written `ageMs` ago. */
  async function leftover(store: FsBlobStore, name: string, bytes: number, ageMs: number): Promise<void> {
    await mkdir(join(store.directory, '.tmp'), { recursive: true });
    const path = join(store.directory, '.tmp', name);
    await writeFile(path, new Uint8Array(bytes));
    const when = new Date(Date.now() - ageMs);
    await utimes(path, when, when);
  }

  it('item 10 of issue 8: removes temporary files last written before the cutoff, keeps younger ones, counts without removing in a dry run', async () => {
    const { store, dispose } = await makeStore();
    try {
      // A fresh store has no temporary folder at all.
      expect(await store.removeAbandonedUploads(new Date())).toEqual({ removed: 0, bytes: 0, failed: [] });
      await store.put('blobs/kept', bytesOf('a blob is never an upload leftover'));
      await leftover(store, 'crashed-1', 3000, 3 * hour);
      await leftover(store, 'crashed-2', 500, 2 * hour);
      await leftover(store, 'running', 700, 1000);
      const cutoff = new Date(Date.now() - hour);

      expect(await store.removeAbandonedUploads(cutoff, { dryRun: true })).toEqual({ removed: 2, bytes: 3500, failed: [] });
      expect((await readdir(join(store.directory, '.tmp'))).sort()).toEqual(['crashed-1', 'crashed-2', 'running']);

      expect(await store.removeAbandonedUploads(cutoff)).toEqual({ removed: 2, bytes: 3500, failed: [] });
      expect(await readdir(join(store.directory, '.tmp'))).toEqual(['running']);
      expect(await store.stat('blobs/kept')).toEqual({ size: 34 });
      expect(await store.removeAbandonedUploads(cutoff)).toEqual({ removed: 0, bytes: 0, failed: [] });
    } finally {
      await dispose();
    }
  });
});
