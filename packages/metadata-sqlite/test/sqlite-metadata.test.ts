import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { expect, it } from 'vitest';
import { metadataStoreContract } from '@cimmeria/core/testing';
import { createSqliteMetadataStore } from '../src/index.js';

async function open() {
  const dir = await mkdtemp(join(tmpdir(), 'cimmeria-sqlite-'));
  const sqlite = createSqliteMetadataStore({ filename: join(dir, 'metadata.db') });
  await sqlite.store.migrate();
  return {
    sqlite,
    dispose: async () => {
      await sqlite.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

metadataStoreContract('SQLite', async () => {
  const { sqlite, dispose } = await open();
  return { store: sqlite.store, dispose };
});

it('runs in WAL mode so readers do not wait for the writer', async () => {
  const { sqlite, dispose } = await open();
  try {
    const { rows } = await sql<{ journal_mode: string }>`pragma journal_mode`.execute(sqlite.db);
    expect(rows[0]?.journal_mode).toBe('wal');
  } finally {
    await dispose();
  }
});
