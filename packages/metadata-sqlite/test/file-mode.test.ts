import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { modeOf, underLoginShellUmask } from '../../../test/support/file-modes.js';
import { createSqliteMetadataStore } from '../src/index.js';

underLoginShellUmask();

it('item 11 of issue 8: under umask 022, a new database file and its -wal and -shm files are 0600', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'cimmeria-sqlite-mode-'));
  const filename = join(dir, 'metadata.db');
  const sqlite = createSqliteMetadataStore({ filename });
  try {
    await sqlite.store.migrate();
    // Password hashes are what this file holds.
    expect(await sqlite.store.addUser('alice', 'scrypt$hash')).toBe(true);
    for (const name of ['metadata.db', 'metadata.db-wal', 'metadata.db-shm']) {
      expect(await modeOf(join(dir, name)), name).toBe(0o600);
    }
  } finally {
    await sqlite.close();
    await rm(dir, { recursive: true, force: true });
  }
});

it("item 11 of issue 8: an existing database file keeps the mode its operator gave it", async () => {
  const dir = await mkdtemp(join(tmpdir(), 'cimmeria-sqlite-mode-'));
  const filename = join(dir, 'metadata.db');
  await writeFile(filename, '');
  await chmod(filename, 0o640);
  const sqlite = createSqliteMetadataStore({ filename });
  try {
    await sqlite.store.migrate();
    expect(await modeOf(filename)).toBe(0o640);
    // SQLite gives its journal files the database file's mode.
    expect(await modeOf(`${filename}-wal`)).toBe(0o640);
  } finally {
    await sqlite.close();
    await rm(dir, { recursive: true, force: true });
  }
});

it('item 3 of issue 11: a missing directory of the database file is created, 0700, so the README snippet runs in an empty folder', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'cimmeria-sqlite-mode-'));
  const filename = join(dir, 'data', 'nested', 'metadata.db');
  const sqlite = createSqliteMetadataStore({ filename });
  try {
    await sqlite.store.migrate();
    expect(await sqlite.store.addUser('alice', 'scrypt$hash')).toBe(true);
    expect(await modeOf(join(dir, 'data'))).toBe(0o700);
    expect(await modeOf(join(dir, 'data', 'nested'))).toBe(0o700);
    expect(await modeOf(filename)).toBe(0o600);
  } finally {
    await sqlite.close();
    await rm(dir, { recursive: true, force: true });
  }
});

it('item 3 of issue 11: an existing directory keeps the mode its operator gave it', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'cimmeria-sqlite-mode-'));
  await chmod(dir, 0o750);
  const sqlite = createSqliteMetadataStore({ filename: join(dir, 'metadata.db') });
  try {
    await sqlite.store.migrate();
    expect(await modeOf(dir)).toBe(0o750);
  } finally {
    await sqlite.close();
    await rm(dir, { recursive: true, force: true });
  }
});
