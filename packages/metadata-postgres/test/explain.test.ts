import type { CompiledQuery } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fillRegistry, registryRef } from './explain-fixture.js';
import { openStore, type TestStore } from './support.js';

/**
 * Every protocol lookup must be served by an index on PostgreSQL. The
 * store's own queries are captured through Kysely's log and EXPLAINed with
 * their parameters, on a registry of realistic shape.
 */
describe('PostgreSQL plans of the protocol lookups', () => {
  const captured: CompiledQuery[] = [];
  let pgStore: TestStore;

  beforeAll(async () => {
    pgStore = await openStore({
      // Filling 70,000 rows may outlast the default deadline on a loaded machine.
      queryTimeoutMs: 60_000,
      log: (event) => {
        if (event.level === 'query') captured.push(event.query);
      },
    });
    await fillRegistry(pgStore.db);
  });

  afterAll(async () => {
    await pgStore?.dispose();
  });

  /** The plans of the queries `call` makes; `dropIndex` is dropped for the EXPLAIN only (rolled back). */
  async function plansOf(call: () => Promise<unknown>, dropIndex?: string): Promise<string[]> {
    captured.length = 0;
    await call();
    const queries = [...captured];
    expect(queries.length).toBeGreaterThan(0);
    const client = await pgStore.pool.connect();
    try {
      await client.query('begin');
      if (dropIndex) await client.query(`drop index ${dropIndex}`);
      const plans: string[] = [];
      for (const query of queries) {
        const { rows } = await client.query(`explain (costs off) ${query.sql}`, query.parameters as unknown[]);
        plans.push(rows.map((row) => row['QUERY PLAN']).join('\n'));
      }
      return plans;
    } finally {
      await client.query('rollback');
      client.release();
    }
  }

  const ref = registryRef(777);
  const recipe = { name: ref.name, version: ref.version };
  const recipeRevision = { ...recipe, revision: ref.revision };
  const packageRevision = { ...recipeRevision, packageId: ref.packageId, packageRevision: ref.packageRevision };

  it('finds the revisions (and so the latest) of a recipe by index', async () => {
    const plans = await plansOf(async () => expect((await pgStore.store.recipeRevisions(recipe)).length).toBe(3));
    for (const plan of plans) expect(plan, plan).not.toMatch(/Seq Scan/);
    expect(plans.join('\n')).toMatch(/Scan (using|on) (recipes_ref_unique|recipes_search_order|recipes_visible_by_name)/);
  });

  it('finds the binaries of a revision and the revisions of a binary by index', async () => {
    const plans = [
      ...(await plansOf(async () => expect((await pgStore.store.latestBinaries(recipeRevision))?.length).toBe(2))),
      ...(await plansOf(async () => expect((await pgStore.store.packageRevisions(packageRevision)).length).toBe(2))),
    ];
    for (const plan of plans) expect(plan, plan).not.toMatch(/Seq Scan/);
    expect(plans.join('\n')).toMatch(/on package_revisions pr/);
  });

  it('lists the binaries of a revision with their conaninfo.txt in one query, by index (issue 8 item 5)', async () => {
    const plans = await plansOf(async () => {
      const binaries = await pgStore.store.latestBinaries(recipeRevision);
      expect(binaries?.map((b) => [b.packageId, b.revision])).toEqual(
        [1, 2].map((p) => [registryRef(777, 3, p).packageId, registryRef(777, 3, p, 2).packageRevision]).sort(),
      );
    });
    expect(plans).toHaveLength(1);
    expect(plans[0], plans[0]).not.toMatch(/Seq Scan/);
    expect(plans[0]).toMatch(/package_files_pk/);
  });

  it('lists the files of recipe and package revisions by index', async () => {
    const plans = [
      ...(await plansOf(async () => expect(await pgStore.store.files({ kind: 'recipe', ref: recipeRevision })).toHaveLength(3))),
      ...(await plansOf(async () => expect(await pgStore.store.files({ kind: 'package', ref: packageRevision })).toHaveLength(3))),
      ...(await plansOf(async () => expect(await pgStore.store.file({ kind: 'package', ref: packageRevision }, 'conaninfo.txt')).toBeDefined())),
    ];
    for (const plan of plans) expect(plan, plan).not.toMatch(/Seq Scan/);
    const all = plans.join('\n');
    expect(all).toMatch(/Scan (using|on) recipe_files_pk/);
    expect(all).toMatch(/Scan (using|on) package_files_pk/);
  });

  it('finds a blob by sha1 by index', async () => {
    const plans = await plansOf(() => pgStore.store.findBlobBySha1('0123456789abcdef0123456789abcdef01234567'));
    expect(plans[0]).toMatch(/Scan (using|on) blobs_by_sha1/);
    expect(plans[0]).not.toMatch(/Seq Scan/);
  });

  it('searches by a name prefix through the lower(name) index, case-insensitively', async () => {
    const search = () => pgStore.store.searchRecipes('LIB0077');
    expect((await search()).map((r) => r.name)).toEqual(Array.from({ length: 10 }, (_, i) => `lib0077${i}`));
    const [plan] = await plansOf(search);
    expect(plan).toMatch(/Scan (using|on) recipes_by_lower_name/);
    expect(plan).toMatch(/>= 'lib0077'.*< 'lib0078'/);
    expect(plan).not.toMatch(/Seq Scan on recipes/);

    // Without it no btree of the core's schema serves a range of `lower(name)`: every recipe is read.
    const [withoutIndex] = await plansOf(search, 'recipes_by_lower_name');
    expect(withoutIndex).toMatch(/Seq Scan on recipes/);
  });

  it('pages through every recipe in name order by index, with no sort', async () => {
    const first = await pgStore.store.searchRecipes('', { limit: 100 });
    expect(first).toHaveLength(100);
    const next = () => pgStore.store.searchRecipes('', { after: first[99]!, limit: 100 });
    const [plan] = await plansOf(next);
    expect(plan).toMatch(/Index (Only )?Scan using (recipes_ref_unique|recipes_search_order)/);
    expect(plan).not.toMatch(/Sort|Seq Scan on recipes/);
  });
});
