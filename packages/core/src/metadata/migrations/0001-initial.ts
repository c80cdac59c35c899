import type { Kysely } from 'kysely';
import type { Migration } from 'kysely/migration';

/**
 * The initial schema. Only portable types and constraints, so SQLite and
 * PostgreSQL run the very same migration. Every protocol lookup is served by
 * an index:
 * - recipe by reference, search by name: `recipes_ref_unique` (name first);
 * - revisions of a recipe and the latest one: `recipe_revisions_by_time`;
 * - binaries of a revision, revisions of a package, the latest one: `package_revisions_by_time`;
 * - files of a revision: the files tables' primary keys (owner first);
 * - blob by sha1 (checksum deploy): `blobs_by_sha1`.
 */
export const initialMigration: Migration = {
  async up(db: Kysely<any>) {
    await db.schema
      .createTable('recipes')
      .addColumn('id', 'varchar(36)', (c) => c.primaryKey())
      .addColumn('name', 'varchar(101)', (c) => c.notNull())
      .addColumn('version', 'varchar(101)', (c) => c.notNull())
      .addColumn('user', 'varchar(101)', (c) => c.notNull())
      .addColumn('channel', 'varchar(101)', (c) => c.notNull())
      .addUniqueConstraint('recipes_ref_unique', ['name', 'version', 'user', 'channel'])
      .execute();

    await db.schema
      .createTable('recipe_revisions')
      .addColumn('id', 'varchar(36)', (c) => c.primaryKey())
      .addColumn('recipe_id', 'varchar(36)', (c) => c.notNull().references('recipes.id'))
      .addColumn('revision', 'varchar(64)', (c) => c.notNull())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('published_at', 'bigint')
      .addUniqueConstraint('recipe_revisions_unique', ['recipe_id', 'revision'])
      .execute();
    await db.schema
      .createIndex('recipe_revisions_by_time')
      .on('recipe_revisions')
      .columns(['recipe_id', 'published_at'])
      .execute();

    await db.schema
      .createTable('package_revisions')
      .addColumn('id', 'varchar(36)', (c) => c.primaryKey())
      .addColumn('recipe_revision_id', 'varchar(36)', (c) => c.notNull().references('recipe_revisions.id'))
      .addColumn('package_id', 'varchar(64)', (c) => c.notNull())
      .addColumn('revision', 'varchar(64)', (c) => c.notNull())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('published_at', 'bigint')
      .addUniqueConstraint('package_revisions_unique', ['recipe_revision_id', 'package_id', 'revision'])
      .execute();
    await db.schema
      .createIndex('package_revisions_by_time')
      .on('package_revisions')
      .columns(['recipe_revision_id', 'package_id', 'published_at'])
      .execute();

    for (const [table, owner, parent] of [
      ['recipe_files', 'recipe_revision_id', 'recipe_revisions.id'],
      ['package_files', 'package_revision_id', 'package_revisions.id'],
    ] as const) {
      await db.schema
        .createTable(table)
        .addColumn(owner, 'varchar(36)', (c) => c.notNull().references(parent))
        .addColumn('path', 'varchar(1024)', (c) => c.notNull())
        .addColumn('blob_key', 'varchar(200)', (c) => c.notNull())
        .addColumn('size', 'bigint', (c) => c.notNull())
        .addColumn('sha1', 'varchar(40)', (c) => c.notNull())
        .addPrimaryKeyConstraint(`${table}_pk`, [owner, 'path'])
        .execute();
      // GC asks "is this blob referenced anywhere?".
      await db.schema.createIndex(`${table}_by_blob`).on(table).column('blob_key').execute();
    }

    await db.schema
      .createTable('blobs')
      .addColumn('key', 'varchar(200)', (c) => c.primaryKey())
      .addColumn('size', 'bigint', (c) => c.notNull())
      .addColumn('sha1', 'varchar(40)', (c) => c.notNull())
      .addColumn('sha256', 'varchar(64)', (c) => c.notNull())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('blobs_by_sha1').on('blobs').column('sha1').execute();

    await db.schema
      .createTable('users')
      .addColumn('name', 'varchar(101)', (c) => c.primaryKey())
      .addColumn('password_hash', 'varchar(255)', (c) => c.notNull())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('updated_at', 'bigint', (c) => c.notNull())
      .execute();
  },

  async down(db: Kysely<any>) {
    for (const table of ['users', 'blobs', 'package_files', 'recipe_files', 'package_revisions', 'recipe_revisions', 'recipes']) {
      await db.schema.dropTable(table).execute();
    }
  },
};
