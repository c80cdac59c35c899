import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it } from 'vitest';
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
