import { createHash } from 'node:crypto';
import { sql, type Kysely } from 'kysely';
import type { Database } from '@cimmeria/core';

/** The reference of recipe `i` of {@link fillRegistry}, its revision `r` (1-3) and binary `p` (1-2) revision `v` (1-2). */
export function registryRef(i: number, r = 3, p = 1, v = 2) {
  return {
    name: `lib${String(i).padStart(5, '0')}`,
    version: `1.${i % 7}`,
    revision: md5(`${i}-${r}`),
    packageId: md5(`p${p}`),
    packageRevision: md5(`${i}-${r}-${p}-${v}`),
  };
}

/**
 * Fills a migrated schema with a registry of realistic shape (thousands of
 * recipes, each with revisions, binaries and files) and analyzes it, so
 * the planner chooses as it would in production.
 */
export async function fillRegistry(db: Kysely<Database>, recipes = 2000): Promise<void> {
  await sql`
    insert into recipes (id, name, version, "user", channel)
    select 'r' || i, 'lib' || lpad(i::text, 5, '0'), '1.' || (i % 7), '', ''
    from generate_series(1, ${recipes}) i`.execute(db);
  await sql`
    insert into recipe_revisions (id, recipe_id, revision, created_at, published_at)
    select 'rr' || i || '-' || r, 'r' || i, md5(i || '-' || r), 1000 * r, 1000 * r
    from generate_series(1, ${recipes}) i, generate_series(1, 3) r`.execute(db);
  await sql`
    insert into package_revisions (id, recipe_revision_id, package_id, revision, created_at, published_at)
    select 'pr' || i || '-' || r || '-' || p || '-' || v, 'rr' || i || '-' || r, md5('p' || p), md5(i || '-' || r || '-' || p || '-' || v), v, v
    from generate_series(1, ${recipes}) i, generate_series(1, 3) r, generate_series(1, 2) p, generate_series(1, 2) v`.execute(db);
  await sql`
    insert into recipe_files (recipe_revision_id, path, blob_key, size, sha1)
    select rr.id, f, 'blobs/' || rr.id || '/' || f, 100, md5(rr.id || f)
    from recipe_revisions rr, unnest(array['conanfile.py', 'conanmanifest.txt', 'conan_export.tgz']) f`.execute(db);
  await sql`
    insert into package_files (package_revision_id, path, blob_key, size, sha1)
    select pr.id, f, 'blobs/' || pr.id || '/' || f, 100, md5(pr.id || f)
    from package_revisions pr, unnest(array['conaninfo.txt', 'conanmanifest.txt', 'conan_package.tgz']) f`.execute(db);
  await sql`
    insert into blobs (key, size, sha1, sha256, created_at)
    select blob_key, size, sha1, md5(sha1) || md5(sha1), 1 from recipe_files
    union all
    select blob_key, size, sha1, md5(sha1) || md5(sha1), 1 from package_files`.execute(db);
  for (const table of ['recipes', 'recipe_revisions', 'package_revisions', 'recipe_files', 'package_files', 'blobs']) {
    await sql`analyze ${sql.table(table)}`.execute(db);
  }
}

function md5(text: string): string {
  return createHash('md5').update(text).digest('hex');
}
