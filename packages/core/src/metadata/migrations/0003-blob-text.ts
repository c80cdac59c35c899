import type { Kysely } from 'kysely';
import type { Migration } from 'kysely/migration';

/**
 * What the server needs to know of a few files without reading their bytes
 * again, kept with the bytes' record (so checksum deploy, which links a
 * stored blob, finds it too):
 *
 * - `md5`: of `conanfile.py`, `conaninfo.txt` and `conanmanifest.txt`, so a
 *   manifest can be checked against the file it lists (a revision id means
 *   one content);
 * - `content`: the text of `conaninfo.txt` and `conanmanifest.txt`
 *   (bounded at upload), so listing binaries is one query with no blob read.
 *
 * Both are null for rows written before this migration and for every other
 * file; readers fall back to the blob (bounded) or skip the check.
 */
export const blobTextMigration: Migration = {
  async up(db: Kysely<any>) {
    await db.schema.alterTable('blobs').addColumn('md5', 'varchar(32)').execute();
    await db.schema.alterTable('blobs').addColumn('content', 'text').execute();
  },

  async down(db: Kysely<any>) {
    await db.schema.alterTable('blobs').dropColumn('content').execute();
    await db.schema.alterTable('blobs').dropColumn('md5').execute();
  },
};
