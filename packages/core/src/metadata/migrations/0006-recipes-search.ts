import { sql, type Kysely } from 'kysely';
import type { Migration } from 'kysely/migration';

/**
 * Two indexes for search over many recipes, on SQLite and PostgreSQL alike:
 * - `recipes_by_lower_name`: search pushes the literal prefix of its
 *   pattern down as a range of `lower(name)` (search ignores case by
 *   default, as conan_server's does), so `conan search 'zl*'` reads the few
 *   recipes named so instead of every recipe;
 * - `recipes_search_order`: a pattern without a literal prefix reads every
 *   recipe, a page at a time in name order; with the id in the index, a
 *   page is read from the index alone before the check for a published
 *   revision (half the time of going to the table for each recipe).
 */
export const recipesSearchMigration: Migration = {
  async up(db: Kysely<any>) {
    await db.schema.createIndex('recipes_by_lower_name').on('recipes').expression(sql`lower(name)`).execute();
    await db.schema.createIndex('recipes_search_order').on('recipes').columns(['name', 'version', 'user', 'channel', 'id']).execute();
  },

  async down(db: Kysely<any>) {
    await db.schema.dropIndex('recipes_search_order').execute();
    await db.schema.dropIndex('recipes_by_lower_name').execute();
  },
};
