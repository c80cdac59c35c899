import { mkdtemp, rm } from 'node:fs/promises';
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
  const { store, dispose } = await makeStore();
  try {
    for (const key of ['../outside', 'blobs/../../outside', '/etc/passwd', 'blobs//x', 'Blobs/UPPER']) {
      await expect(store.put(key, bytesOf('x'))).rejects.toThrow(/Invalid blob key/);
    }
  } finally {
    await dispose();
  }
});
