import { sql, type Kysely } from 'kysely';
import type { Migration } from 'kysely/migration';

/**
 * Search pushes the literal prefix of its pattern down as a range of
 * `lower(name)` (search ignores case by default, as conan_server's does):
 * this index serves it on SQLite and PostgreSQL alike, so `conan search
 * 'zl*'` reads the few recipes named so instead of every recipe.
 */
export const recipesLowerNameMigration: Migration = {
  async up(db: Kysely<any>) {
    await db.schema.createIndex('recipes_by_lower_name').on('recipes').expression(sql`lower(name)`).execute();
  },

  async down(db: Kysely<any>) {
    await db.schema.dropIndex('recipes_by_lower_name').execute();
  },
};
