import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  PasswordAuthenticator,
  StaticUsers,
  TokenService,
  createRegistry,
  formatRecipe,
  recipeMatcher,
  type RecipeRef,
  type Registry,
} from '@cimmeria/core';
import { createSqliteMetadataStore, type SqliteMetadata } from '@cimmeria/metadata-sqlite';
import { FsBlobStore } from '@cimmeria/storage-fs';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/**
 * Issue 10: search narrows by index to the names starting with the
 * pattern's literal prefix, and reads the rest a page at a time. Neither
 * may change what a search answers: the same recipes, in the same order, as
 * matching the pattern against every recipe.
 */

const NAMES = ['zlib', 'Zlib', 'ZLIB-ng', 'zlib_ng', 'zl', 'zm', 'spdlog', 'Spd.log', 'open+ssl', 'openssl', 'k8s', 'a-b', 'a_b', 'ab'];
const refsOf = (count: number): RecipeRef[] =>
  Array.from({ length: count }, (_, i) => {
    const name = `${NAMES[i % NAMES.length]}${i < NAMES.length ? '' : String(Math.floor(i / NAMES.length))}`;
    const version = `${1 + (i % 3)}.${i % 7}`;
    return i % 3 === 0 ? { name, version } : { name, version, user: i % 2 === 0 ? 'Acme' : 'acme', channel: 'stable' };
  });

/** Publishes recipes straight into the tables (a recipe and one published revision each), many per statement. */
async function seed(sqlite: SqliteMetadata, refs: RecipeRef[]): Promise<void> {
  for (let i = 0; i < refs.length; i += 200) {
    const recipes = refs.slice(i, i + 200).map((ref) => ({
      id: randomUUID(),
      name: ref.name,
      version: ref.version,
      user: ref.user ?? '',
      channel: ref.channel ?? '',
    }));
    await sqlite.db.insertInto('recipes').values(recipes).execute();
    await sqlite.db
      .insertInto('recipe_revisions')
      .values(recipes.map((r) => ({ id: randomUUID(), recipe_id: r.id, revision: 'a'.repeat(32), created_at: 1, published_at: 1 })))
      .execute();
  }
}

/** What a search must answer: every recipe the pattern matches, in code-unit order of name, version, user, channel. */
function expected(refs: RecipeRef[], pattern: string, ignoreCase: boolean): string[] {
  const matches = recipeMatcher(pattern, ignoreCase);
  const key = (r: RecipeRef) => [r.name, r.version, r.user ?? '', r.channel ?? ''];
  return refs
    .filter(matches)
    .sort((a, b) => {
      const [x, y] = [key(a), key(b)];
      for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return x[i]! < y[i]! ? -1 : 1;
      return 0;
    })
    .map(formatRecipe);
}

describe('search over many recipes (issue 10)', () => {
  let dir: string;
  let sqlite: SqliteMetadata;
  let registry: Registry;
  // Several of the service's pages (of 500 recipes).
  const refs = refsOf(2_600);

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'cimmeria-search-'));
    sqlite = createSqliteMetadataStore({ filename: join(dir, 'metadata.db') });
    await sqlite.store.migrate();
    await seed(sqlite, refs);
    registry = createRegistry({
      metadata: sqlite.store,
      blobs: new FsBlobStore({ directory: join(dir, 'blobs') }),
      authenticator: new PasswordAuthenticator(new StaticUsers({})),
      tokens: new TokenService({ secret: 'search-secret-0123456789' }),
    });
  });

  afterAll(async () => {
    await sqlite?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('answers every recipe, in order, across pages, for a pattern without a literal prefix', async () => {
    const all = await registry.service.search(undefined, '*', true);
    expect(all).toHaveLength(refs.length);
    expect(all).toEqual(expected(refs, '*', true));
    expect(await registry.service.search(undefined, '*ssl9*', true)).toEqual(expected(refs, '*ssl9*', true));
  });

  it('answers what matching every recipe answers, for patterns with and without literal prefixes', async () => {
    for (const [pattern, ignoreCase] of [
      ['zl*', true],
      ['ZL*', true],
      ['ZL*', false],
      ['zlib/1.*', true],
      ['zlib', true],
      ['Zlib/2.3@Acme/*', false],
      ['zlib_*', true],
      ['zlib-*', true],
      ['[z]l*', true],
      ['z?ib*', true],
      ['a[-_]b*', true],
      ['open+*', true],
      ['spd.*', true],
      // Ignoring case, the long s matches s and the Kelvin sign k, though neither lowercases to them.
      ['\u017fpd*', true],
      ['\u212a8s*', true],
      ['\u212a8s*', false],
      ['zl[', true],
    ] as const) {
      expect(await registry.service.search(undefined, pattern, ignoreCase), `${pattern} ${ignoreCase}`).toEqual(
        expected(refs, pattern, ignoreCase),
      );
    }
    expect(await registry.service.search(undefined, '\u017fpd*', true)).not.toEqual([]);
  });

  it('answers what matching every recipe answers, for any pattern', async () => {
    const char = fc.constantFrom(...'zZlLiIbB_-.+/@*?[]!18kK\u017f\u212as'.split(''));
    await fc.assert(
      fc.asyncProperty(fc.array(char, { minLength: 1, maxLength: 8 }), fc.boolean(), async (chars, ignoreCase) => {
        const pattern = chars.join('');
        expect(await registry.service.search(undefined, pattern, ignoreCase)).toEqual(expected(refs, pattern, ignoreCase));
      }),
      { numRuns: 150 },
    );
  });
});
