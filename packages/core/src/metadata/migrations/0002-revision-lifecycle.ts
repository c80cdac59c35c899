import type { Kysely } from 'kysely';
import type { Migration } from 'kysely/migration';

/**
 * Deleting a revision hides it instead of removing its rows, so that an
 * upload of the same revision racing the delete ends with the revision
 * whole, not missing the files recorded before the delete (revision ids are
 * content hashes: the files are the same). Garbage collection removes the
 * rows of revisions left unpublished (deleted, or abandoned mid-upload)
 * once untouched for its grace period.
 *
 * - `deleted_at`: set by a delete, cleared when a file is recorded again.
 * - `touched_at`: last file recorded or delete; what the grace period measures.
 */
export const revisionLifecycleMigration: Migration = {
  async up(db: Kysely<any>) {
    for (const table of ['recipe_revisions', 'package_revisions']) {
      await db.schema.alterTable(table).addColumn('deleted_at', 'bigint').execute();
      await db.schema.alterTable(table).addColumn('touched_at', 'bigint').execute();
    }
  },

  async down(db: Kysely<any>) {
    for (const table of ['recipe_revisions', 'package_revisions']) {
      await db.schema.alterTable(table).dropColumn('touched_at').execute();
      await db.schema.alterTable(table).dropColumn('deleted_at').execute();
    }
  },
};
