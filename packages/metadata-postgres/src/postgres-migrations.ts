import { sql, type Kysely } from 'kysely';
import { Migrator, type Migration } from 'kysely/migration';

/**
 * PostgreSQL-only tuning on top of the core's portable schema, tracked in
 * its own table so it never interleaves with the core's migration names.
 * Nothing here changes what a query returns, only how fast.
 */
const postgresMigrations: Record<string, Migration> = {
  /**
   * Search was `lower(name) like 'prefix%'` (until pg-0002). A plain btree (the core's
   * `recipes_ref_unique`, or one on `lower(name)`) serves LIKE prefixes
   * only under the "C" collation; databases are usually created with a
   * linguistic one (en_US.UTF-8, ICU, even C.UTF-8 counts as not-C), so the
   * search would scan every recipe. `text_pattern_ops` compares byte-wise
   * whatever the database collation, which is what a prefix match needs.
   */
  'pg-0001-recipes-name-prefix': {
    async up(db: Kysely<any>) {
      await sql`create index recipes_lower_name_prefix on recipes (lower(name) text_pattern_ops)`.execute(db);
    },
    async down(db: Kysely<any>) {
      await sql`drop index recipes_lower_name_prefix`.execute(db);
    },
  },
  /**
   * Search now reads a range of `lower(name)` (the core's
   * `recipes_by_lower_name`) and pages in name order in SQL. Under a
   * linguistic collation neither is right: a range may skip names (one
   * that ignores punctuation puts `z_x` after the range's end `z` + 1) and
   * the order is not the code-unit order SQLite gives. Collated "C", the
   * recipe columns compare byte-wise (the same order for the ASCII that
   * references allow), their btrees serve both, and the text_pattern_ops
   * index is no longer needed.
   */
  'pg-0002-recipes-collate-c': {
    async up(db: Kysely<any>) {
      await sql`drop index recipes_lower_name_prefix`.execute(db);
      await sql`alter table recipes
        alter column name type varchar(101) collate "C",
        alter column version type varchar(101) collate "C",
        alter column "user" type varchar(101) collate "C",
        alter column channel type varchar(101) collate "C"`.execute(db);
      // Rebuilt under the column's new collation (an expression index keeps the one it was built with).
      await sql`drop index recipes_by_lower_name`.execute(db);
      await sql`create index recipes_by_lower_name on recipes (lower(name))`.execute(db);
    },
    async down(db: Kysely<any>) {
      await sql`drop index recipes_by_lower_name`.execute(db);
      await sql`alter table recipes
        alter column name type varchar(101) collate "default",
        alter column version type varchar(101) collate "default",
        alter column "user" type varchar(101) collate "default",
        alter column channel type varchar(101) collate "default"`.execute(db);
      await sql`create index recipes_by_lower_name on recipes (lower(name))`.execute(db);
      await sql`create index recipes_lower_name_prefix on recipes (lower(name) text_pattern_ops)`.execute(db);
    },
  },
};

/** Applies the PostgreSQL-only migrations; run after the core's. Returns the names applied. */
export async function migratePostgresExtras(db: Kysely<any>, migrationTableSchema: string): Promise<string[]> {
  const migrator = new Migrator({
    db,
    provider: { getMigrations: async () => postgresMigrations },
    migrationTableName: 'cimmeria_postgres_migrations',
    migrationLockTableName: 'cimmeria_postgres_migrations_lock',
    migrationTableSchema,
  });
  const result = await migrator.migrateToLatest();
  if (result.error) {
    const failed = result.results?.find((r) => r.status === 'Error');
    throw new Error(`Migration ${failed?.migrationName ?? '(unknown)'} failed: ${String(result.error)}`, {
      cause: result.error,
    });
  }
  return (result.results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
}
