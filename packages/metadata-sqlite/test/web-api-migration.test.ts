import { randomUUID } from 'node:crypto';
import { Migrator } from 'kysely/migration';
import { describe, expect, it } from 'vitest';
import { migrationProvider } from '@cimmeria/core';
import { createSqliteMetadataStore } from '../src/index.js';

// Migration 0007 fills what the web API reads from what a server stored before it.

describe('migration 0007-web-api backfills from existing data', () => {
  it('marks visible recipes and indexes the requires of stored conaninfo.txt', async () => {
    const sqlite = createSqliteMetadataStore({ filename: ':memory:' });
    try {
      const migrator = new Migrator({
        db: sqlite.db,
        provider: migrationProvider,
        migrationTableName: 'cimmeria_migrations',
        migrationLockTableName: 'cimmeria_migrations_lock',
      });
      expect((await migrator.migrateTo('0005-audit')).error).toBeUndefined();
      const db = sqlite.db as any;
      const recipe = async (name: string, published: number | null) => {
        const id = randomUUID();
        const revision = randomUUID();
        await db.insertInto('recipes').values({ id, name, version: '1.0', user: '', channel: '' }).execute();
        await db.insertInto('recipe_revisions').values({ id: revision, recipe_id: id, revision: `${name}-r1`, created_at: 1, published_at: published }).execute();
        return revision;
      };
      const app = await recipe('app', 10);
      await recipe('hidden', null);
      const binary = randomUUID();
      await db.insertInto('package_revisions').values({ id: binary, recipe_revision_id: app, package_id: 'p1', revision: 'b1', created_at: 2, published_at: 20 }).execute();
      await db.insertInto('blobs').values({ key: 'k1', size: 10, sha1: 'a'.repeat(40), sha256: 'b'.repeat(64), created_at: 2, md5: null, content: '[requires]\nzlib/1.3.Z\n' }).execute();
      await db.insertInto('package_files').values({ package_revision_id: binary, path: 'conaninfo.txt', blob_key: 'k1', size: 10, sha1: 'a'.repeat(40) }).execute();

      expect(await sqlite.store.migrate()).toEqual(['0006-recipes-search', '0007-web-api']);
      expect(await sqlite.store.visibleRecipeNames({ namePrefix: '', offset: 0, limit: 10 })).toEqual({ names: ['app'], total: 1 });
      const dependents = await sqlite.store.dependents('zlib', 10);
      expect(dependents.map((d) => [d.ref.name, d.packageId, d.requires])).toEqual([['app', 'p1', 'zlib/1.3.Z']]);
    } finally {
      await sqlite.close();
    }
  });
});
