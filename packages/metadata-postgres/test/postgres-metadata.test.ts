import pg from 'pg';
import { Kysely, sql } from 'kysely';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { KyselyMetadataStore, MANIFEST_FILE, type Database, type FileOwner } from '@cimmeria/core';
import { metadataStoreContract } from '@cimmeria/core/testing';
import {
  PostgresMetadataDialect,
  PostgresMetadataStore,
  createPostgresMetadataStore,
  guardPool,
  postgresClock,
} from '../src/index.js';
import { PG_URL, dropSchema, freshSchemaName, openStore, withAdmin } from './support.js';

metadataStoreContract('PostgreSQL', async () => {
  const { store, dispose } = await openStore();
  return { store, dispose };
});

const hello = { name: 'hello', version: '1.0' };
const owner = (revision: string): FileOwner => ({ kind: 'recipe', ref: { ...hello, revision } });
const blob = (n: number) => ({ key: `blobs/t/${n}`, size: 3, sha1: 'a'.repeat(40), sha256: 'b'.repeat(64) });

/** The database's current time in microseconds, asked on a connection of its own. */
const databaseNowMicros = () =>
  withAdmin(async (client) => {
    const { rows } = await client.query<{ now: string }>(`select (extract(epoch from now()) * 1000000)::bigint as now`);
    return Number(rows[0]!.now);
  });

describe('PostgreSQL metadata store', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('stamps publications with the database clock, not the process clock', async () => {
    const pgStore = await openStore();
    try {
      // Put this process 20 years in the past: only the database's clock can give today's time.
      vi.useFakeTimers({ toFake: ['Date'] });
      vi.setSystemTime(new Date('2005-01-01T00:00:00Z'));
      const processMicros = Date.now() * 1000;

      const before = await databaseNowMicros();
      await pgStore.store.recordFile(owner('aaa1'), MANIFEST_FILE, blob(1));
      const after = await databaseNowMicros();
      const [revision] = await pgStore.store.recipeRevisions(hello);

      expect(revision!.timeMicros).toBeGreaterThanOrEqual(before);
      expect(revision!.timeMicros).toBeLessThanOrEqual(after);
      expect(revision!.timeMicros - processMicros).toBeGreaterThan(10 * 365 * 24 * 3600 * 1e6);
      expect(Number.isInteger(await postgresClock(pgStore.db))).toBe(true);
    } finally {
      vi.useRealTimers();
      await pgStore.dispose();
    }
  });

  it('reads bigint columns, which pg returns as strings, as numbers', async () => {
    const pgStore = await openStore();
    try {
      const big = { ...blob(2), size: 5 * 1024 ** 3 };
      await pgStore.store.recordFile(owner('aaa1'), 'big.tgz', big);
      await pgStore.store.recordFile(owner('aaa1'), MANIFEST_FILE, blob(3));
      const raw = await pgStore.db.selectFrom('recipe_revisions').select(['published_at', 'created_at']).executeTakeFirstOrThrow();
      expect(typeof raw.published_at).toBe('string');
      expect(typeof raw.created_at).toBe('string');

      const [revision] = await pgStore.store.recipeRevisions(hello);
      expect(revision!.timeMicros).toBe(Number(raw.published_at));
      expect(await pgStore.store.file(owner('aaa1'), 'big.tgz')).toMatchObject({ size: 5 * 1024 ** 3 });
      expect(await pgStore.store.findBlobBySha1('a'.repeat(40))).toMatchObject({ size: expect.any(Number) });
    } finally {
      await pgStore.dispose();
    }
  });

  it('keeps each schema to itself: two stores in one database do not see each other', async () => {
    const a = await openStore();
    const b = await openStore();
    try {
      await a.store.recordFile(owner('aaa1'), MANIFEST_FILE, blob(4));
      expect(await a.store.searchRecipes('')).toEqual([hello]);
      expect(await b.store.searchRecipes('')).toEqual([]);
      const { rows } = await sql<{ schema: string }>`select current_schema() as schema`.execute(b.db);
      expect(rows[0]!.schema).toBe(b.schema);
    } finally {
      await a.dispose();
      await b.dispose();
    }
  });

  it('composes from a host-made pool and Kysely instance (inject clients, do not build them)', async () => {
    const schema = freshSchemaName();
    await withAdmin((client) => client.query(`create schema ${schema}`));
    const pool = new pg.Pool({ connectionString: PG_URL, options: `-c search_path=${schema}`, max: 2 });
    const unguard = guardPool(pool);
    const db = new Kysely<Database>({ dialect: new PostgresMetadataDialect({ pool }) });
    try {
      const store = new PostgresMetadataStore(db);
      expect(await store.migrate()).toContain('0001-initial');
      await store.recordFile(owner('aaa1'), MANIFEST_FILE, blob(5));
      expect((await store.recipeRevisions(hello)).map((r) => r.revision)).toEqual(['aaa1']);

      // The core class alone works as well, given the database clock.
      const plain = new KyselyMetadataStore(db, { clock: postgresClock });
      expect((await plain.recipeRevisions(hello)).map((r) => r.revision)).toEqual(['aaa1']);

      // The factory takes a pool too, and leaves it open on close: its owner ends it.
      const injected = createPostgresMetadataStore({ pool });
      expect(await injected.store.searchRecipes('hel')).toEqual([hello]);
      await injected.close();
      expect((await pool.query('select 1 as one')).rows[0].one).toBe(1);
    } finally {
      unguard();
      await db.destroy();
      await dropSchema(schema);
    }
  });

  it('gives distinct, ordered times to publications racing from several nodes', async () => {
    const first = await openStore();
    // Three nodes on one schema, each with its own pool.
    const others = [1, 2].map(() => createPostgresMetadataStore({ connectionString: PG_URL, schema: first.schema, pool: { max: 8 } }));
    const nodes = [first.store, ...others.map((node) => node.store)];
    try {
      const revisions = Array.from({ length: 24 }, (_, i) => `rev${String(i).padStart(2, '0')}`);
      const packages = Array.from({ length: 24 }, (_, i) => `prev${String(i).padStart(2, '0')}`);
      const packageOwner = (packageRevision: string): FileOwner => ({
        kind: 'package',
        ref: { ...hello, revision: 'rev00', packageId: 'f00d', packageRevision },
      });
      for (const [i, revision] of revisions.entries()) await nodes[i % 3]!.recordFile(owner(revision), 'conanfile.py', blob(100 + i));
      for (const [i, prev] of packages.entries()) await nodes[i % 3]!.recordFile(packageOwner(prev), 'conaninfo.txt', blob(200 + i));

      await Promise.all([
        ...revisions.map((revision, i) => nodes[i % 3]!.recordFile(owner(revision), MANIFEST_FILE, blob(300 + i))),
        ...packages.map((prev, i) => nodes[(i + 1) % 3]!.recordFile(packageOwner(prev), MANIFEST_FILE, blob(400 + i))),
      ]);

      const recipeTimes = (await first.store.recipeRevisions(hello)).map((r) => r.timeMicros);
      const packageTimes = (await first.store.packageRevisions({ ...hello, revision: 'rev00', packageId: 'f00d' })).map((r) => r.timeMicros);
      expect(recipeTimes).toHaveLength(24);
      expect(packageTimes).toHaveLength(24);
      for (const times of [recipeTimes, packageTimes]) {
        expect(new Set(times).size).toBe(times.length);
        expect([...times].sort((a, b) => b - a)).toEqual(times);
      }
    } finally {
      await Promise.all(others.map((node) => node.close()));
      await first.dispose();
    }
  });

  it('rejects a schema name it would have to quote', () => {
    expect(() => createPostgresMetadataStore({ connectionString: PG_URL, schema: 'a"; drop' })).toThrow(/schema name/);
  });
});
