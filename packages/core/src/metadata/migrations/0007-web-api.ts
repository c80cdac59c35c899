import { sql, type Kysely } from 'kysely';
import type { Migration } from 'kysely/migration';
import { requireRows } from '../conaninfo.js';

/** Rows per statement of the backfills: well within every database's limit on bound parameters. */
const BATCH = 200;

/**
 * What the web API reads fast:
 *
 * - `recipes.latest_published_at`: the newest publication time of a visible
 *   revision of the recipe, `null` when none is visible. Kept by every
 *   publish and delete, so listing and counting visible recipes reads one
 *   index (`recipes_visible_by_name`) instead of probing revisions per recipe.
 * - `package_requires`: the `[requires]` lines of each package revision's
 *   `conaninfo.txt`, by required recipe name, filled when the file is
 *   recorded: "who uses zlib?" reads an index, not every conaninfo.txt.
 *   (Name prefixes use 0006's `recipes_by_lower_name`.)
 * - `recipe_revisions_by_published`: recent publications, newest first.
 *
 * Both are backfilled here from what is stored.
 */
export const webApiMigration: Migration = {
  async up(db: Kysely<any>) {
    await db.schema.alterTable('recipes').addColumn('latest_published_at', 'bigint').execute();
    await db
      .updateTable('recipes')
      .set({
        latest_published_at: sql`(select max(rr.published_at) from recipe_revisions rr where rr.recipe_id = recipes.id)`,
      })
      .execute();
    await db.schema.createIndex('recipes_visible_by_name').on('recipes').columns(['name', 'latest_published_at']).execute();
    await db.schema.createIndex('recipe_revisions_by_published').on('recipe_revisions').column('published_at').execute();

    await db.schema
      .createTable('package_requires')
      .addColumn('package_revision_id', 'varchar(36)', (c) => c.notNull().references('package_revisions.id'))
      .addColumn('position', 'integer', (c) => c.notNull())
      .addColumn('name', 'varchar(101)', (c) => c.notNull())
      .addColumn('version', 'varchar(101)', (c) => c.notNull())
      .addColumn('reference', 'varchar(1024)', (c) => c.notNull())
      .addPrimaryKeyConstraint('package_requires_pk', ['package_revision_id', 'position'])
      .execute();
    await db.schema.createIndex('package_requires_by_name').on('package_requires').columns(['name', 'version']).execute();

    // Backfill, a page of package revisions at a time (keyset on id).
    let after = '';
    for (;;) {
      const rows: Array<{ id: string; content: string | null }> = await db
        .selectFrom('package_revisions as pr')
        .innerJoin('package_files as pf', 'pf.package_revision_id', 'pr.id')
        .innerJoin('blobs as b', 'b.key', 'pf.blob_key')
        .where('pf.path', '=', 'conaninfo.txt')
        .where('pr.id', '>', after)
        .select(['pr.id', 'b.content'])
        .orderBy('pr.id')
        .limit(BATCH)
        .execute();
      if (rows.length === 0) break;
      const values = rows.flatMap((row) => requireRows(row.id, row.content ?? ''));
      for (let i = 0; i < values.length; i += BATCH) {
        await db.insertInto('package_requires').values(values.slice(i, i + BATCH)).execute();
      }
      after = rows[rows.length - 1]!.id;
    }
  },

  async down(db: Kysely<any>) {
    await db.schema.dropTable('package_requires').execute();
    await db.schema.dropIndex('recipe_revisions_by_published').execute();
    await db.schema.dropIndex('recipes_visible_by_name').execute();
    await db.schema.alterTable('recipes').dropColumn('latest_published_at').execute();
  },
};
