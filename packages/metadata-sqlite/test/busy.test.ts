import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, expect, it } from 'vitest';
import { MANIFEST_FILE, MetadataUnavailableError, type FileOwner } from '@cimmeria/core';
import { createSqliteMetadataStore } from '../src/index.js';

const owner: FileOwner = { kind: 'recipe', ref: { name: 'hello', version: '1.0', revision: 'aaa1' } };
const blob = (n: number) => ({ key: `blobs/t/${n}`, size: 3, sha1: 'a'.repeat(40), sha256: 'b'.repeat(64) });

const cleanups: Array<() => Promise<unknown> | unknown> = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()!();
});

it('item 6 of issue 8: a write blocked by another process waits busyTimeoutMs, then fails as unavailable (503), and works once the lock is gone', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'cimmeria-sqlite-busy-'));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  const filename = join(dir, 'metadata.db');
  const sqlite = createSqliteMetadataStore({ filename, busyTimeoutMs: 300 });
  cleanups.push(() => sqlite.close());
  await sqlite.store.migrate();

  // Another process (here another connection: SQLite locks the same way) holds the write lock.
  const other = new Database(filename);
  cleanups.push(() => other.close());
  other.exec('begin immediate');

  const started = Date.now();
  const error = await sqlite.store.recordFile(owner, MANIFEST_FILE, blob(1)).catch((e: unknown) => e);
  const waited = Date.now() - started;
  expect(error).toBeInstanceOf(MetadataUnavailableError);
  expect((error as Error).message).not.toContain(filename);
  expect(waited).toBeGreaterThanOrEqual(250);
  expect(waited).toBeLessThan(3_000);
  // Readers are not blocked by the writer (WAL).
  expect(await sqlite.store.recipeRevisions({ name: 'hello', version: '1.0' })).toEqual([]);

  other.exec('rollback');
  await sqlite.store.recordFile(owner, MANIFEST_FILE, blob(1));
  expect((await sqlite.store.recipeRevisions({ name: 'hello', version: '1.0' })).map((r) => r.revision)).toEqual(['aaa1']);
});
