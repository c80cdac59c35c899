import { describe, expect, it, vi } from 'vitest';
import { createHash } from 'node:crypto';
import {
  MANIFEST_FILE,
  ManifestMismatchError,
  RevisionOverwriteError,
  type BlobRecord,
  type FileOwner,
  type MetadataStore,
  type NewBlob,
} from '../metadata/metadata-store.js';
import { withFixture, type Fixture } from './fixture.js';
import type { PackageRevisionRef, RecipeRef, RecipeRevisionRef } from '../reference/references.js';

/** What a metadata store test file gives the contract: a fresh, migrated store and a way to dispose of it. */
export type MakeMetadataStore = Fixture<MetadataStore & { migrate?(): Promise<unknown> }>;

const hello: RecipeRef = { name: 'hello', version: '1.0' };
const helloAcme: RecipeRef = { name: 'hello', version: '1.0', user: 'acme', channel: 'stable' };
const rrev = (ref: RecipeRef, revision: string): RecipeRevisionRef => ({ ...ref, revision });
const prev = (ref: RecipeRevisionRef, packageId: string, packageRevision: string): PackageRevisionRef => ({
  ...ref,
  packageId,
  packageRevision,
});
const recipeOwner = (ref: RecipeRevisionRef): FileOwner => ({ kind: 'recipe', ref });
const packageOwner = (ref: PackageRevisionRef): FileOwner => ({ kind: 'package', ref });

let blobCounter = 0;
function blob(sha1 = 'a'.repeat(40)): BlobRecord {
  blobCounter += 1;
  return { key: `blobs/test/${blobCounter}-${Math.random().toString(36).slice(2)}`, size: 3, sha1, sha256: 'b'.repeat(64) };
}

/** Stores a recipe revision's files, the manifest last, so it is published. */
async function publishRecipe(store: MetadataStore, ref: RecipeRevisionRef): Promise<void> {
  await store.recordFile(recipeOwner(ref), 'conanfile.py', blob());
  await store.recordFile(recipeOwner(ref), MANIFEST_FILE, blob());
}

async function publishPackage(store: MetadataStore, ref: PackageRevisionRef): Promise<void> {
  await store.recordFile(packageOwner(ref), 'conaninfo.txt', blob());
  await store.recordFile(packageOwner(ref), MANIFEST_FILE, blob());
}

/** The latest revision of each binary, as a listing gives them; none when the recipe revision is not visible. */
async function latestPackages(store: MetadataStore, ref: RecipeRevisionRef) {
  const binaries = await store.latestBinaries(ref);
  return (binaries ?? []).map(({ packageId, revision, timeMicros }) => ({ packageId, revision, timeMicros }));
}

const md5 = (text: string) => createHash('md5').update(text).digest('hex');
const sha1 = (text: string) => createHash('sha1').update(text).digest('hex');

/** A blob of `text` as the service records it: with md5, and with the text when `keepText`. */
function textBlob(text: string, keepText = true): NewBlob {
  return { ...blob(sha1(text)), size: text.length, md5: md5(text), ...(keepText ? { text } : {}) };
}

/** A conanmanifest.txt listing the md5 of each file's text. */
function manifestOf(files: Record<string, string>): NewBlob {
  const lines = Object.entries(files).map(([path, text]) => `${path}: ${md5(text)}`);
  return textBlob(`1700000000\n${lines.join('\n')}\n`);
}

/**
 * The behaviour every {@link MetadataStore} must have, publication rules
 * included. Call it from a test file with a factory for a fresh store.
 */
export function metadataStoreContract(name: string, makeStore: MakeMetadataStore): void {
  const withStore = (test: (store: MetadataStore) => Promise<void>) => withFixture(makeStore, test);

  describe(`MetadataStore contract: ${name}`, () => {
    it(
      'replaces files of a revision in place in one step (Conan 1 revision 0), checked against the new manifest',
      withStore(async (store) => {
        const r0 = rrev(hello, '0');
        const v1 = { 'conanfile.py': 'first' };
        await store.replaceFiles(recipeOwner(r0), {
          write: [
            { path: 'conanfile.py', blob: textBlob('first', false) },
            { path: 'conan_sources.tgz', blob: blob() },
            { path: MANIFEST_FILE, blob: manifestOf(v1) },
          ],
        });
        expect((await store.recipeRevisions(hello)).map((r) => r.revision)).toEqual(['0']);
        const first = await store.fileDigests(recipeOwner(r0));
        expect(first?.map((f) => f.path)).toEqual(['conan_sources.tgz', 'conanfile.py', MANIFEST_FILE]);
        expect(first?.find((f) => f.path === 'conanfile.py')?.md5).toBe(md5('first'));

        // Other bytes for the conanfile and the manifest: no overwrite error, the sources stay.
        await store.replaceFiles(recipeOwner(r0), {
          write: [
            { path: 'conanfile.py', blob: textBlob('second', false) },
            { path: MANIFEST_FILE, blob: manifestOf({ 'conanfile.py': 'second' }) },
          ],
        });
        expect((await store.files(recipeOwner(r0)))?.map((f) => f.path)).toEqual(['conan_sources.tgz', 'conanfile.py', MANIFEST_FILE]);
        expect((await store.fileDigests(recipeOwner(r0)))?.find((f) => f.path === 'conanfile.py')?.md5).toBe(md5('second'));

        // A manifest contradicting its conanfile changes nothing.
        await expect(
          store.replaceFiles(recipeOwner(r0), {
            write: [
              { path: 'conanfile.py', blob: textBlob('third', false) },
              { path: MANIFEST_FILE, blob: manifestOf({ 'conanfile.py': 'not third' }) },
            ],
          }),
        ).rejects.toBeInstanceOf(ManifestMismatchError);
        expect((await store.fileDigests(recipeOwner(r0)))?.find((f) => f.path === 'conanfile.py')?.md5).toBe(md5('second'));

        expect(await store.replaceFiles(recipeOwner(r0), { write: [], remove: ['conan_sources.tgz'] })).toBe(true);
        expect((await store.files(recipeOwner(r0)))?.map((f) => f.path)).toEqual(['conanfile.py', MANIFEST_FILE]);
        expect(await store.replaceFiles(recipeOwner(rrev(hello, 'nothere')), { write: [], remove: ['x'] })).toBe(false);
      }),
    );

    it(
      'keeps a revision invisible until its manifest is stored',
      withStore(async (store) => {
        const r1 = rrev(hello, 'aaa1');
        await store.recordFile(recipeOwner(r1), 'conanfile.py', blob());
        expect(await store.recipeRevisions(hello)).toEqual([]);
        expect(await store.recipeRevision(r1)).toBeUndefined();
        expect(await store.files(recipeOwner(r1))).toBeUndefined();
        expect(await store.file(recipeOwner(r1), 'conanfile.py')).toBeUndefined();
        expect(await store.searchRecipes('')).toEqual([]);

        await store.recordFile(recipeOwner(r1), MANIFEST_FILE, blob());
        const revisions = await store.recipeRevisions(hello);
        expect(revisions.map((r) => r.revision)).toEqual(['aaa1']);
        expect(await store.recipeRevision(r1)).toEqual(revisions[0]);
        expect(revisions[0]!.timeMicros).toBeGreaterThan(Date.UTC(2020, 0, 1) * 1000);
        expect((await store.files(recipeOwner(r1)))?.map((f) => f.path).sort()).toEqual(['conanfile.py', MANIFEST_FILE]);
        expect((await store.file(recipeOwner(r1), 'conanfile.py'))?.path).toBe('conanfile.py');
        expect(await store.searchRecipes('')).toEqual([hello]);
      }),
    );

    it(
      'lists revisions newest first with strictly increasing times, even within one millisecond',
      withStore(async (store) => {
        for (const revision of ['aaa1', 'aaa2', 'aaa3']) await publishRecipe(store, rrev(hello, revision));
        const revisions = await store.recipeRevisions(hello);
        expect(revisions.map((r) => r.revision)).toEqual(['aaa3', 'aaa2', 'aaa1']);
        expect(revisions[0]!.timeMicros).toBeGreaterThan(revisions[1]!.timeMicros);
        expect(revisions[1]!.timeMicros).toBeGreaterThan(revisions[2]!.timeMicros);
      }),
    );

    it(
      'orders publications strictly even when the process clock stands still',
      withStore(async (store) => {
        // Every publication below happens "in the same millisecond" for a store
        // on the process clock; one on the database's clock is unaffected.
        vi.useFakeTimers({ toFake: ['Date'] });
        try {
          vi.setSystemTime(new Date());
          for (const revision of ['aaa1', 'aaa2', 'aaa3']) await publishRecipe(store, rrev(hello, revision));
          await store.recordFile(recipeOwner(rrev(hello, 'aaa1')), MANIFEST_FILE, blob(), { reuploadMakesLatest: true });
          const revisions = await store.recipeRevisions(hello);
          expect(revisions.map((r) => r.revision)).toEqual(['aaa1', 'aaa3', 'aaa2']);
          expect(revisions[0]!.timeMicros).toBeGreaterThan(revisions[1]!.timeMicros);
          expect(revisions[1]!.timeMicros).toBeGreaterThan(revisions[2]!.timeMicros);

          const r3 = rrev(hello, 'aaa3');
          for (const revision of ['bbb1', 'bbb2']) await publishPackage(store, prev(r3, 'f00d', revision));
          await store.recordFile(packageOwner(prev(r3, 'f00d', 'bbb1')), MANIFEST_FILE, blob(), { reuploadMakesLatest: true });
          const binaries = await store.packageRevisions({ ...r3, packageId: 'f00d' });
          expect(binaries.map((r) => r.revision)).toEqual(['bbb1', 'bbb2']);
          expect(binaries[0]!.timeMicros).toBeGreaterThan(binaries[1]!.timeMicros);
        } finally {
          vi.useRealTimers();
        }
      }),
    );

    it(
      'gives distinct, ordered times to revisions published at the same moment',
      withStore(async (store) => {
        const names = Array.from({ length: 10 }, (_, i) => `bbb${i}`);
        for (const revision of names) await store.recordFile(recipeOwner(rrev(hello, revision)), 'conanfile.py', blob());
        await Promise.all(names.map((revision) => store.recordFile(recipeOwner(rrev(hello, revision)), MANIFEST_FILE, blob())));
        const revisions = await store.recipeRevisions(hello);
        expect(revisions.map((r) => r.revision).sort()).toEqual(names);
        for (let i = 1; i < revisions.length; i++) {
          expect(revisions[i - 1]!.timeMicros).toBeGreaterThan(revisions[i]!.timeMicros);
        }
      }),
    );

    it(
      'keeps the time and place of a published revision when its manifest is stored again (issue 9 item 2)',
      withStore(async (store) => {
        await publishRecipe(store, rrev(hello, 'aaa1'));
        await publishRecipe(store, rrev(hello, 'aaa2'));
        const before = await store.recipeRevisions(hello);
        // The same bytes (conan upload --force), and other bytes by one who may overwrite.
        expect(await store.recordFile(recipeOwner(rrev(hello, 'aaa1')), MANIFEST_FILE, blob())).toMatchObject({ status: 'unchanged' });
        expect(
          await store.recordFile(recipeOwner(rrev(hello, 'aaa1')), MANIFEST_FILE, blob('c'.repeat(40)), { allowOverwrite: true }),
        ).toEqual({ status: 'recorded' });
        expect(await store.recipeRevisions(hello)).toEqual(before);

        const r2 = rrev(hello, 'aaa2');
        await publishPackage(store, prev(r2, 'f00d', 'bbb1'));
        await publishPackage(store, prev(r2, 'f00d', 'bbb2'));
        const binaries = await store.packageRevisions({ ...r2, packageId: 'f00d' });
        await store.recordFile(packageOwner(prev(r2, 'f00d', 'bbb1')), MANIFEST_FILE, blob());
        expect(await store.packageRevisions({ ...r2, packageId: 'f00d' })).toEqual(binaries);
        expect((await latestPackages(store, r2)).map((p) => p.revision)).toEqual(['bbb2']);
      }),
    );

    it(
      'makes a revision the latest again, with a newer time, when its manifest is stored again with reuploadMakesLatest',
      withStore(async (store) => {
        await publishRecipe(store, rrev(hello, 'aaa1'));
        await publishRecipe(store, rrev(hello, 'aaa2'));
        const before = await store.recipeRevisions(hello);
        await store.recordFile(recipeOwner(rrev(hello, 'aaa1')), MANIFEST_FILE, blob(), { reuploadMakesLatest: true });
        const after = await store.recipeRevisions(hello);
        expect(after.map((r) => r.revision)).toEqual(['aaa1', 'aaa2']);
        expect(after[0]!.timeMicros).toBeGreaterThan(before[0]!.timeMicros);
      }),
    );

    it(
      'gives a revision deleted and uploaded again a new time: it is the latest (issue 9 item 2)',
      withStore(async (store) => {
        const r1 = rrev(hello, 'aaa1');
        await publishRecipe(store, r1);
        await publishRecipe(store, rrev(hello, 'aaa2'));
        const [, old] = await store.recipeRevisions(hello);
        expect(await store.deleteRecipeRevision(r1)).toBe(true);
        await publishRecipe(store, r1);
        const after = await store.recipeRevisions(hello);
        expect(after.map((r) => r.revision)).toEqual(['aaa1', 'aaa2']);
        expect(after[0]!.timeMicros).toBeGreaterThan(old!.timeMicros);

        await publishPackage(store, prev(r1, 'f00d', 'bbb1'));
        await publishPackage(store, prev(r1, 'f00d', 'bbb2'));
        expect(await store.deletePackageRevision(prev(r1, 'f00d', 'bbb1'))).toBe(true);
        await publishPackage(store, prev(r1, 'f00d', 'bbb1'));
        expect((await store.packageRevisions({ ...r1, packageId: 'f00d' })).map((r) => r.revision)).toEqual(['bbb1', 'bbb2']);
      }),
    );

    it(
      'shows a package revision only when both its manifest and its recipe manifest are stored',
      withStore(async (store) => {
        const r1 = rrev(hello, 'aaa1');
        const p1 = prev(r1, 'f00d', 'bbb1');
        await store.recordFile(recipeOwner(r1), 'conanfile.py', blob());
        await publishPackage(store, p1);
        expect(await store.packageRevisions(p1)).toEqual([]);
        expect(await latestPackages(store, r1)).toEqual([]);
        expect(await store.files(packageOwner(p1))).toBeUndefined();
        expect(await store.file(packageOwner(p1), 'conaninfo.txt')).toBeUndefined();

        await store.recordFile(recipeOwner(r1), MANIFEST_FILE, blob());
        expect((await store.packageRevisions(p1)).map((r) => r.revision)).toEqual(['bbb1']);
        expect((await latestPackages(store, r1)).map((p) => [p.packageId, p.revision])).toEqual([['f00d', 'bbb1']]);
        expect((await store.file(packageOwner(p1), 'conaninfo.txt'))?.path).toBe('conaninfo.txt');

        // A newer binary revision without its own manifest stays hidden.
        const p2 = prev(r1, 'f00d', 'bbb2');
        await store.recordFile(packageOwner(p2), 'conaninfo.txt', blob());
        expect((await store.packageRevisions(p1)).map((r) => r.revision)).toEqual(['bbb1']);
        expect((await latestPackages(store, r1)).map((p) => p.revision)).toEqual(['bbb1']);
        expect(await store.files(packageOwner(p2))).toBeUndefined();
        await store.recordFile(packageOwner(p2), MANIFEST_FILE, blob());
        expect((await latestPackages(store, r1)).map((p) => p.revision)).toEqual(['bbb2']);
      }),
    );

    it(
      'gives the latest revision of each binary of a recipe revision',
      withStore(async (store) => {
        const r1 = rrev(hello, 'aaa1');
        await publishRecipe(store, r1);
        await publishPackage(store, prev(r1, 'f00d', 'bbb1'));
        await publishPackage(store, prev(r1, 'f00d', 'bbb2'));
        await publishPackage(store, prev(r1, 'cafe', 'ccc1'));
        const latest = await latestPackages(store, r1);
        expect(latest.map((p) => [p.packageId, p.revision]).sort()).toEqual([
          ['cafe', 'ccc1'],
          ['f00d', 'bbb2'],
        ]);
        expect(await latestPackages(store, rrev(hello, 'aaa2'))).toEqual([]);

        // With reuploadMakesLatest, storing an older binary revision's manifest again makes it the latest, with a newer time.
        const before = await store.packageRevisions({ ...r1, packageId: 'f00d' });
        await store.recordFile(packageOwner(prev(r1, 'f00d', 'bbb1')), MANIFEST_FILE, blob(), { reuploadMakesLatest: true });
        const after = await store.packageRevisions({ ...r1, packageId: 'f00d' });
        expect(after.map((r) => r.revision)).toEqual(['bbb1', 'bbb2']);
        expect(after[0]!.timeMicros).toBeGreaterThan(before[0]!.timeMicros);
        expect((await latestPackages(store, r1)).find((p) => p.packageId === 'f00d')?.revision).toBe('bbb1');
      }),
    );

    it(
      'lists nested file paths and replaces a file stored again',
      withStore(async (store) => {
        const r1 = rrev(hello, 'aaa1');
        await publishRecipe(store, r1);
        const first = blob();
        const second = blob('c'.repeat(40));
        await store.recordFile(recipeOwner(r1), 'metadata/logs/build.log', first);
        await store.recordFile(recipeOwner(r1), 'metadata/logs/build.log', second);
        expect((await store.files(recipeOwner(r1)))?.map((f) => f.path)).toContain('metadata/logs/build.log');
        expect(await store.file(recipeOwner(r1), 'metadata/logs/build.log')).toEqual({
          path: 'metadata/logs/build.log',
          blobKey: second.key,
          size: 3,
          sha1: second.sha1,
        });
        expect(await store.file(recipeOwner(r1), 'nope')).toBeUndefined();
      }),
    );

    it(
      'keeps references with user and channel apart from those without',
      withStore(async (store) => {
        await publishRecipe(store, rrev(hello, 'aaa1'));
        await publishRecipe(store, rrev(helloAcme, 'aaa2'));
        expect((await store.recipeRevisions(hello)).map((r) => r.revision)).toEqual(['aaa1']);
        expect((await store.recipeRevisions(helloAcme)).map((r) => r.revision)).toEqual(['aaa2']);
        expect(await store.searchRecipes('hel')).toEqual([hello, helloAcme]);
      }),
    );

    it(
      'searches by name prefix case-insensitively, with _ and % taken literally',
      withStore(async (store) => {
        for (const name of ['my_lib', 'myxlib', 'my%lib', 'Zlib']) {
          await publishRecipe(store, rrev({ name, version: '1.0' }, 'aaa1'));
        }
        const names = async (prefix: string) => (await store.searchRecipes(prefix)).map((r) => r.name);
        expect(await names('my_')).toEqual(['my_lib']);
        expect(await names('my%')).toEqual(['my%lib']);
        expect(await names('ZL')).toEqual(['Zlib']);
        expect(await names('zl')).toEqual(['Zlib']);
        expect((await names('')).length).toBe(4);
      }),
    );

    it(
      'pages through search results in order, each page after the last recipe of the previous one',
      withStore(async (store) => {
        const refs: RecipeRef[] = [
          { name: 'Zlib', version: '1.2' },
          { name: 'abc', version: '1.0' },
          { name: 'abc', version: '1.0', user: 'acme', channel: 'stable' },
          { name: 'zlib', version: '1.3' },
          { name: 'zlib', version: '1.3', user: 'acme', channel: 'stable' },
          { name: 'zlib', version: '1.3', user: 'acme', channel: 'testing' },
          { name: 'zlib-ng', version: '2.0' },
          { name: 'zlib_ng', version: '2.0' },
          { name: 'zm', version: '1.0' },
        ];
        for (const ref of refs) await publishRecipe(store, rrev(ref, 'aaa1'));
        const pages = async (prefix: string, limit: number) => {
          const all: RecipeRef[][] = [];
          let after: RecipeRef | undefined;
          for (;;) {
            const page = await store.searchRecipes(prefix, { limit, ...(after ? { after } : {}) });
            all.push(page);
            if (page.length < limit) return all;
            after = page[page.length - 1];
          }
        };
        const everything = await store.searchRecipes('');
        expect(everything).toHaveLength(refs.length);
        expect((await pages('', 2)).flat()).toEqual(everything);
        expect((await pages('', 2)).map((p) => p.length)).toEqual([2, 2, 2, 2, 1]);
        // A prefix is a range of names: zlib-ng and zlib_ng are in it, zm is past its end.
        const zl = everything.filter((r) => r.name.toLowerCase().startsWith('zl'));
        expect((await pages('ZL', 2)).flat()).toEqual(zl);
        expect((await pages('zl', 1)).flat()).toEqual(zl);
        expect(await store.searchRecipes('zlib', { after: { name: 'zlib', version: '1.3', user: 'acme', channel: 'stable' } })).toEqual([
          { name: 'zlib', version: '1.3', user: 'acme', channel: 'testing' },
          { name: 'zlib-ng', version: '2.0' },
          { name: 'zlib_ng', version: '2.0' },
        ]);
        expect(await store.searchRecipes('zlib_')).toEqual([{ name: 'zlib_ng', version: '2.0' }]);
        expect(await store.searchRecipes('zm\uffff')).toEqual([]);
      }),
    );

    it(
      'deletes recipes, recipe revisions and binaries, reporting what did not exist',
      withStore(async (store) => {
        const r1 = rrev(hello, 'aaa1');
        const r2 = rrev(hello, 'aaa2');
        await publishRecipe(store, r1);
        await publishRecipe(store, r2);
        await publishPackage(store, prev(r1, 'f00d', 'bbb1'));
        await publishPackage(store, prev(r1, 'f00d', 'bbb2'));
        await publishPackage(store, prev(r1, 'cafe', 'ccc1'));

        expect(await store.deletePackageRevision(prev(r1, 'f00d', 'bbb2'))).toBe(true);
        expect(await store.deletePackageRevision(prev(r1, 'f00d', 'bbb2'))).toBe(false);
        expect((await store.packageRevisions({ ...r1, packageId: 'f00d' })).map((r) => r.revision)).toEqual(['bbb1']);
        expect(await store.deletePackage({ ...r1, packageId: 'cafe' })).toBe(true);
        expect(await store.deletePackage({ ...r1, packageId: 'cafe' })).toBe(false);
        expect(await store.deletePackages(r1)).toBe(true);
        expect(await latestPackages(store, r1)).toEqual([]);
        expect(await store.deletePackages(r2)).toBe(true);
        expect(await store.deletePackages(rrev(hello, 'dead'))).toBe(false);

        expect(await store.deleteRecipeRevision(r1)).toBe(true);
        expect((await store.recipeRevisions(hello)).map((r) => r.revision)).toEqual(['aaa2']);
        expect(await store.searchRecipes('')).toEqual([hello]);
        expect(await store.deleteRecipeRevision(r1)).toBe(false);
        expect(await store.deleteRecipeRevision(r2)).toBe(true);
        expect(await store.searchRecipes('')).toEqual([]);

        await publishRecipe(store, rrev(helloAcme, 'aaa3'));
        expect(await store.deleteRecipe(helloAcme)).toBe(true);
        expect(await store.deleteRecipe(helloAcme)).toBe(false);
        expect(await store.recipeRevisions(helloAcme)).toEqual([]);
      }),
    );

    it(
      'leaves other revisions intact when one is deleted',
      withStore(async (store) => {
        const r1 = rrev(hello, 'aaa1');
        const r2 = rrev(hello, 'aaa2');
        await publishRecipe(store, r1);
        await publishRecipe(store, r2);
        await publishPackage(store, prev(r2, 'f00d', 'bbb1'));
        await store.deleteRecipeRevision(r1);
        expect((await store.files(recipeOwner(r2)))?.length).toBe(2);
        expect((await latestPackages(store, r2)).map((p) => p.revision)).toEqual(['bbb1']);
        expect(await store.recipeRevision(r1)).toBeUndefined();
        expect(await store.files(recipeOwner(r1))).toBeUndefined();
      }),
    );

    it(
      'takes the binaries of a deleted recipe revision with it, so a re-upload starts clean',
      withStore(async (store) => {
        const r1 = rrev(hello, 'aaa1');
        await publishRecipe(store, r1);
        await publishPackage(store, prev(r1, 'f00d', 'bbb1'));
        expect(await store.deleteRecipeRevision(r1)).toBe(true);
        await publishRecipe(store, r1);
        expect(await latestPackages(store, r1)).toEqual([]);
        expect(await store.packageRevisions({ ...r1, packageId: 'f00d' })).toEqual([]);
        expect(await store.files(packageOwner(prev(r1, 'f00d', 'bbb1')))).toBeUndefined();
      }),
    );

    it(
      'finds blobs by sha1',
      withStore(async (store) => {
        const record = blob('d'.repeat(40));
        await store.recordFile(recipeOwner(rrev(hello, 'aaa1')), 'conanfile.py', record);
        expect(await store.findBlobBySha1('d'.repeat(40))).toEqual(record);
        expect(await store.findBlobBySha1('e'.repeat(40))).toBeUndefined();
      }),
    );

    it(
      'keeps users',
      withStore(async (store) => {
        await store.setPasswordHash('demo', 'hash-1');
        await store.setPasswordHash('admin', 'hash-2');
        expect(await store.getPasswordHash('demo')).toBe('hash-1');
        await store.setPasswordHash('demo', 'hash-3');
        expect(await store.getPasswordHash('demo')).toBe('hash-3');
        expect(await store.listUsers()).toEqual(['admin', 'demo']);
        expect(await store.deleteUser('demo')).toBe(true);
        expect(await store.deleteUser('demo')).toBe(false);
        expect(await store.getPasswordHash('demo')).toBeUndefined();
        expect(await store.getPasswordHash('nobody')).toBeUndefined();
        expect(await store.listUsers()).toEqual(['admin']);
        expect(await store.addUser('admin', 'other')).toBe(false);
        expect(await store.getPasswordHash('admin')).toBe('hash-2');
        expect(await store.addUser('carol', 'hash-4')).toBe(true);
        expect(await store.getPasswordHash('carol')).toBe('hash-4');
      }),
    );

    it(
      'keeps API tokens: create, look up, list per user, touch, revoke (own only)',
      withStore(async (store) => {
        const created = await store.createApiToken({
          id: 'tok1', user: 'demo', name: 'ci', secretSha256: 'a'.repeat(64), scope: 'read', pattern: 'zlib/*@*/*', expiresInSeconds: 3600,
        });
        expect(created).toMatchObject({ id: 'tok1', user: 'demo', name: 'ci', scope: 'read', pattern: 'zlib/*@*/*' });
        expect(created.expiresAtMicros! - created.createdAtMicros).toBe(3600 * 1_000_000);
        await store.createApiToken({ id: 'tok2', user: 'admin', name: 'deploy', secretSha256: 'b'.repeat(64), scope: 'delete' });
        expect(await store.apiToken('tok1')).toEqual({ ...created, secretSha256: 'a'.repeat(64) });
        const tok2 = await store.apiToken('tok2');
        expect(tok2?.pattern).toBeUndefined();
        expect(tok2?.expiresAtMicros).toBeUndefined();
        expect(await store.apiToken('nope')).toBeUndefined();
        expect((await store.listApiTokens('demo')).map((t) => t.id)).toEqual(['tok1']);
        expect((await store.listApiTokens()).map((t) => t.id).sort()).toEqual(['tok1', 'tok2']);
        expect((await store.listApiTokens())[0]).not.toHaveProperty('secretSha256');

        await store.touchApiToken('tok1');
        expect((await store.apiToken('tok1'))?.lastUsedAtMicros).toBeGreaterThanOrEqual(created.createdAtMicros);

        expect(await store.revokeApiToken('tok2', 'demo')).toBe(false);
        expect(await store.apiToken('tok2')).toBeDefined();
        expect(await store.revokeApiToken('tok2', 'admin')).toBe(true);
        expect(await store.revokeApiToken('tok2')).toBe(false);
        expect(await store.revokeApiToken('tok1', undefined, { user: 'cli:root' })).toBe(true);
        expect(await store.listApiTokens()).toEqual([]);
        // Created and revoked tokens are in the audit trail; a refused revoke is not.
        const events = (await store.auditEvents({ limit: 10 })).filter((e) => e.kind.startsWith('token.'));
        expect(events.map((e) => [e.kind, e.ref])).toEqual([
          ['token.revoked', 'demo/tok1'],
          ['token.revoked', 'admin/tok2'],
          ['token.created', 'admin/tok2'],
          ['token.created', 'demo/tok1'],
        ]);
        expect(events[0]!.actor).toEqual({ user: 'cli:root' });
      }),
    );

    it(
      'removing a user removes their API tokens',
      withStore(async (store) => {
        await store.addUser('demo', 'hash');
        await store.createApiToken({ id: 'tok1', user: 'demo', name: 'ci', secretSha256: 'a'.repeat(64), scope: 'write' });
        await store.createApiToken({ id: 'tok2', user: 'other', name: 'ci', secretSha256: 'b'.repeat(64), scope: 'write' });
        expect(await store.deleteUser('demo')).toBe(true);
        expect(await store.apiToken('tok1')).toBeUndefined();
        expect(await store.apiToken('tok2')).toBeDefined();
      }),
    );

    it(
      'creates a user once when several processes try at the same time',
      withStore(async (store) => {
        const results = await Promise.all(['h1', 'h2', 'h3', 'h4'].map((hash) => store.addUser('admin', hash)));
        expect(results.filter(Boolean)).toHaveLength(1);
        const winner = ['h1', 'h2', 'h3', 'h4'][results.indexOf(true)];
        expect(await store.getPasswordHash('admin')).toBe(winner);
      }),
    );

    it(
      'converges when many files of one new revision are recorded concurrently',
      withStore(async (store) => {
        const r1 = rrev(hello, 'aaa1');
        const paths = Array.from({ length: 19 }, (_, i) => `file-${i}.txt`);
        await Promise.all([
          ...paths.map((path) => store.recordFile(recipeOwner(r1), path, blob())),
          store.recordFile(recipeOwner(r1), MANIFEST_FILE, blob()),
        ]);
        expect((await store.recipeRevisions(hello)).map((r) => r.revision)).toEqual(['aaa1']);
        expect((await store.files(recipeOwner(r1)))?.map((f) => f.path).sort()).toEqual([...paths, MANIFEST_FILE].sort());
      }),
    );

    it(
      'converges when the same file of one revision is recorded concurrently (uploads from several nodes)',
      withStore(async (store) => {
        const r1 = rrev(hello, 'aaa1');
        const records = Array.from({ length: 10 }, () => blob());
        await Promise.all(records.map((record) => store.recordFile(recipeOwner(r1), MANIFEST_FILE, record)));
        expect((await store.recipeRevisions(hello)).map((r) => r.revision)).toEqual(['aaa1']);
        const files = await store.files(recipeOwner(r1));
        expect(files?.map((f) => f.path)).toEqual([MANIFEST_FILE]);
        expect(records.map((r) => r.key)).toContain(files![0]!.blobKey);
      }),
    );

    it(
      'keeps the same revision of hello/1.0 and hello/1.0@acme/stable apart: files, binaries, deletes',
      withStore(async (store) => {
        const plain = rrev(hello, 'aaa1');
        const acme = rrev(helloAcme, 'aaa1');
        const plainFile = blob();
        const acmeFile = blob();
        await store.recordFile(recipeOwner(plain), 'conanfile.py', plainFile);
        await store.recordFile(recipeOwner(acme), 'conanfile.py', acmeFile);
        await store.recordFile(recipeOwner(plain), MANIFEST_FILE, blob());
        // Only hello/1.0 has its manifest: hello/1.0@acme/stable stays invisible.
        expect(await store.recipeRevision(plain)).toBeDefined();
        expect(await store.recipeRevision(acme)).toBeUndefined();
        expect(await store.files(recipeOwner(acme))).toBeUndefined();
        expect(await store.searchRecipes('hello')).toEqual([hello]);

        await store.recordFile(recipeOwner(acme), MANIFEST_FILE, blob());
        expect((await store.file(recipeOwner(plain), 'conanfile.py'))?.blobKey).toBe(plainFile.key);
        expect((await store.file(recipeOwner(acme), 'conanfile.py'))?.blobKey).toBe(acmeFile.key);
        await publishPackage(store, prev(acme, 'f00d', 'bbb1'));
        expect(await latestPackages(store, plain)).toEqual([]);
        expect((await latestPackages(store, acme)).map((p) => p.packageId)).toEqual(['f00d']);

        expect(await store.deleteRecipeRevision(plain)).toBe(true);
        expect(await store.recipeRevision(plain)).toBeUndefined();
        expect((await store.recipeRevisions(helloAcme)).map((r) => r.revision)).toEqual(['aaa1']);
        expect((await store.file(recipeOwner(acme), 'conanfile.py'))?.blobKey).toBe(acmeFile.key);
        expect((await latestPackages(store, acme)).map((p) => p.revision)).toEqual(['bbb1']);
        expect(await store.searchRecipes('hello')).toEqual([helloAcme]);
      }),
    );

    it(
      'keeps the order and times of revisions when files other than the manifest are added later',
      withStore(async (store) => {
        // `conan upload --metadata` adds files to a published revision: that is no re-upload.
        const r1 = rrev(hello, 'aaa1');
        await publishRecipe(store, r1);
        await publishRecipe(store, rrev(hello, 'aaa2'));
        const before = await store.recipeRevisions(hello);
        await store.recordFile(recipeOwner(r1), 'metadata/logs/build.log', blob());
        await store.recordFile(recipeOwner(r1), 'conanfile.py', blob());
        expect(await store.recipeRevisions(hello)).toEqual(before);

        const p1 = prev(r1, 'f00d', 'bbb1');
        await publishPackage(store, p1);
        await publishPackage(store, prev(r1, 'f00d', 'bbb2'));
        const binaries = await store.packageRevisions(p1);
        await store.recordFile(packageOwner(p1), 'metadata/logs/test.log', blob());
        expect(await store.packageRevisions(p1)).toEqual(binaries);
        expect((await latestPackages(store, r1)).map((p) => p.revision)).toEqual(['bbb2']);
      }),
    );

    it(
      'gives distinct, ordered times to binary revisions published at the same moment',
      withStore(async (store) => {
        const r1 = rrev(hello, 'aaa1');
        await publishRecipe(store, r1);
        const names = Array.from({ length: 10 }, (_, i) => `ccc${i}`);
        for (const revision of names) await store.recordFile(packageOwner(prev(r1, 'f00d', revision)), 'conaninfo.txt', blob());
        await Promise.all(names.map((revision) => store.recordFile(packageOwner(prev(r1, 'f00d', revision)), MANIFEST_FILE, blob())));
        const revisions = await store.packageRevisions({ ...r1, packageId: 'f00d' });
        expect(revisions.map((r) => r.revision).sort()).toEqual(names);
        for (let i = 1; i < revisions.length; i++) {
          expect(revisions[i - 1]!.timeMicros).toBeGreaterThan(revisions[i]!.timeMicros);
        }
        expect((await latestPackages(store, r1)).map((p) => p.revision)).toEqual([revisions[0]!.revision]);
      }),
    );

    it(
      'reads sizes beyond 32 bits, and times, back as plain integers',
      withStore(async (store) => {
        const r1 = rrev(hello, 'aaa1');
        const big: BlobRecord = { ...blob('f'.repeat(40)), size: 5 * 1024 ** 3 + 7 };
        await store.recordFile(recipeOwner(r1), 'conan_sources.tgz', big);
        await store.recordFile(recipeOwner(r1), MANIFEST_FILE, blob());
        expect(await store.file(recipeOwner(r1), 'conan_sources.tgz')).toEqual({
          path: 'conan_sources.tgz',
          blobKey: big.key,
          size: 5 * 1024 ** 3 + 7,
          sha1: big.sha1,
        });
        expect((await store.files(recipeOwner(r1)))?.find((f) => f.path === 'conan_sources.tgz')?.size).toBe(5 * 1024 ** 3 + 7);
        expect(await store.findBlobBySha1(big.sha1)).toEqual(big);
        const [revision] = await store.recipeRevisions(hello);
        expect(typeof revision!.timeMicros).toBe('number');
        expect(Number.isSafeInteger(revision!.timeMicros)).toBe(true);
        // Microseconds of today: between 2020 and 2100.
        expect(revision!.timeMicros).toBeGreaterThan(Date.UTC(2020, 0, 1) * 1000);
        expect(revision!.timeMicros).toBeLessThan(Date.UTC(2100, 0, 1) * 1000);
      }),
    );

    it(
      'sorts search results by name, version, user and channel, the same on every database',
      withStore(async (store) => {
        // Code-unit order (as JavaScript sorts strings), whatever the database's collation.
        const refs: RecipeRef[] = [
          { name: 'zlib', version: '1.3' },
          { name: 'Zlib', version: '1.2' },
          { name: 'abc', version: '1.10' },
          { name: 'abc', version: '1.9' },
          { name: 'abc', version: '1.9', user: 'acme', channel: 'stable' },
          { name: 'abc', version: '1.9', user: 'Acme', channel: 'testing' },
          { name: 'my-lib', version: '1.0' },
          { name: 'my_lib', version: '1.0' },
          { name: 'myxlib', version: '1.0' },
        ];
        for (const ref of refs) await publishRecipe(store, rrev(ref, 'aaa1'));
        const key = (r: RecipeRef) => [r.name, r.version, r.user ?? '', r.channel ?? ''];
        const expected = [...refs].sort((a, b) => {
          const [x, y] = [key(a), key(b)];
          for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return x[i]! < y[i]! ? -1 : 1;
          return 0;
        });
        expect(await store.searchRecipes('')).toEqual(expected);
        expect(await store.searchRecipes('ZLIB')).toEqual([
          { name: 'Zlib', version: '1.2' },
          { name: 'zlib', version: '1.3' },
        ]);
      }),
    );

    it(
      'deletes a recipe with its binaries; deletes of binaries of unknown revisions report false',
      withStore(async (store) => {
        const r1 = rrev(hello, 'aaa1');
        await publishRecipe(store, r1);
        await publishPackage(store, prev(r1, 'f00d', 'bbb1'));
        const unknown = rrev(hello, 'dead');
        expect(await store.deletePackage({ ...unknown, packageId: 'f00d' })).toBe(false);
        expect(await store.deletePackageRevision(prev(unknown, 'f00d', 'bbb1'))).toBe(false);
        expect(await store.deletePackage({ ...r1, packageId: 'cafe' })).toBe(false);
        expect(await store.deletePackageRevision(prev(r1, 'f00d', 'bbb9'))).toBe(false);
        expect((await latestPackages(store, r1)).map((p) => p.revision)).toEqual(['bbb1']);

        expect(await store.deleteRecipe(hello)).toBe(true);
        expect(await store.searchRecipes('')).toEqual([]);
        await publishRecipe(store, r1);
        expect(await latestPackages(store, r1)).toEqual([]);
        expect(await store.files(packageOwner(prev(r1, 'f00d', 'bbb1')))).toBeUndefined();
        expect((await store.recipeRevisions(hello)).map((r) => r.revision)).toEqual(['aaa1']);
      }),
    );

    it(
      'drops a recipe from search when its last published revision is deleted, even with a half-uploaded one left',
      withStore(async (store) => {
        const r1 = rrev(hello, 'aaa1');
        await publishRecipe(store, r1);
        await store.recordFile(recipeOwner(rrev(hello, 'aaa2')), 'conanfile.py', blob());
        expect(await store.deleteRecipeRevision(r1)).toBe(true);
        expect(await store.searchRecipes('')).toEqual([]);
        expect(await store.recipeRevisions(hello)).toEqual([]);
        // The half-uploaded revision can still be completed.
        await store.recordFile(recipeOwner(rrev(hello, 'aaa2')), MANIFEST_FILE, blob());
        expect((await store.recipeRevisions(hello)).map((r) => r.revision)).toEqual(['aaa2']);
        expect((await store.files(recipeOwner(rrev(hello, 'aaa2'))))?.map((f) => f.path).sort()).toEqual([
          'conanfile.py',
          MANIFEST_FILE,
        ]);
      }),
    );

    it(
      'publishes at a given time, keeping the order and times of imported revisions',
      withStore(async (store) => {
        const times = [1_600_000_000_000_000, 1_600_000_000_500_000, 1_700_000_000_000_001];
        for (const [i, time] of times.entries()) {
          const ref = rrev(hello, `aaa${i}`);
          await store.recordFile(recipeOwner(ref), 'conanfile.py', blob());
          await store.recordFile(recipeOwner(ref), MANIFEST_FILE, blob(), { publishedAtMicros: time });
        }
        expect(await store.recipeRevisions(hello)).toEqual([
          { revision: 'aaa2', timeMicros: times[2] },
          { revision: 'aaa1', timeMicros: times[1] },
          { revision: 'aaa0', timeMicros: times[0] },
        ]);
        const p = prev(rrev(hello, 'aaa2'), 'f00d', 'bbb1');
        await store.recordFile(packageOwner(p), MANIFEST_FILE, blob(), { publishedAtMicros: 1_650_000_000_000_000 });
        expect(await store.packageRevisions(p)).toEqual([{ revision: 'bbb1', timeMicros: 1_650_000_000_000_000 }]);
        // An ordinary upload afterwards is latest, as always.
        await publishRecipe(store, rrev(hello, 'aaa9'));
        expect((await store.recipeRevisions(hello))[0]!.revision).toBe('aaa9');
      }),
    );

    it(
      'links a stored blob to a new path without new bytes (checksum deploy)',
      withStore(async (store) => {
        const stored = blob('c'.repeat(40));
        await store.recordFile(recipeOwner(rrev(hello, 'aaa1')), 'conan_export.tgz', stored);
        const target = rrev(helloAcme, 'aaa2');
        expect(await store.linkFile(recipeOwner(target), 'conan_export.tgz', stored.key)).toBe(true);
        expect(await store.recipeRevision(target)).toBeUndefined();
        // A manifest can only be linked to bytes whose text was kept (stored as a manifest).
        expect(await store.linkFile(recipeOwner(target), MANIFEST_FILE, stored.key)).toBe(false);
        const manifest = manifestOf({});
        await store.recordFile(recipeOwner(rrev(hello, 'aaa1')), MANIFEST_FILE, manifest);
        expect(await store.linkFile(recipeOwner(target), MANIFEST_FILE, manifest.key)).toBe(true);
        expect(await store.files(recipeOwner(target))).toEqual([
          { path: 'conan_export.tgz', blobKey: stored.key, size: stored.size, sha1: stored.sha1 },
          { path: MANIFEST_FILE, blobKey: manifest.key, size: manifest.size, sha1: manifest.sha1 },
        ]);
        expect(await store.linkFile(recipeOwner(target), 'other.txt', 'blobs/test/never-stored')).toBe(false);
        expect(await store.file(recipeOwner(target), 'other.txt')).toBeUndefined();
      }),
    );

    it(
      'finds every blob with a sha1 and the recipes using it',
      withStore(async (store) => {
        const sha1 = 'e'.repeat(40);
        const first = blob(sha1);
        const second = blob(sha1);
        await store.recordFile(recipeOwner(rrev(hello, 'aaa1')), 'conanfile.py', first);
        await store.recordFile(recipeOwner(rrev(hello, 'aaa1')), MANIFEST_FILE, blob());
        await publishRecipe(store, rrev(helloAcme, 'aaa1'));
        await store.recordFile(packageOwner(prev(rrev(helloAcme, 'aaa1'), 'f00d', 'bbb1')), 'conan_package.tgz', first);
        await store.recordFile(packageOwner(prev(rrev(helloAcme, 'aaa1'), 'f00d', 'bbb1')), MANIFEST_FILE, blob());
        await new Promise((resolve) => setTimeout(resolve, 5));
        await store.recordFile(recipeOwner(rrev(helloAcme, 'aaa3')), 'conanfile.py', second);
        await store.recordFile(recipeOwner(rrev(helloAcme, 'aaa3')), MANIFEST_FILE, blob());
        // Files of revisions not published (uploading, or deleted) are not offered for checksum deploy.
        await store.recordFile(recipeOwner(rrev(hello, 'aaa9')), 'conanfile.py', blob(sha1));
        const found = (await store.findBlobsBySha1(sha1)).filter((b) => b.recipes.length > 0);
        expect(found.map((b) => b.key)).toEqual([second.key, first.key]);
        expect(found[0]!.recipes).toEqual([helloAcme]);
        expect(found[1]!.recipes).toEqual(expect.arrayContaining([hello, helloAcme]));
        expect(found[1]!.recipes).toHaveLength(2);
        expect(await store.findBlobsBySha1('f'.repeat(40))).toEqual([]);
        expect(await store.findBlobsBySha1(sha1, 1)).toHaveLength(1);
      }),
    );

    it(
      'releases for garbage collection only blobs no file uses, whose record is old enough',
      withStore(async (store) => {
        const r1 = rrev(hello, 'aaa1');
        const used = blob();
        const unused = blob();
        await store.recordFile(recipeOwner(r1), 'conanfile.py', used);
        await store.recordFile(recipeOwner(r1), MANIFEST_FILE, blob());
        // A blob whose file was replaced (an overwrite) is used no more.
        await store.recordFile(recipeOwner(r1), 'conan_export.tgz', unused);
        await store.recordFile(recipeOwner(r1), 'conan_export.tgz', blob('c'.repeat(40)), { allowOverwrite: true });
        const orphan = 'blobs/test/bytes-without-record';
        const keys = [used.key, unused.key, orphan];
        const future = (Date.now() + 60_000) * 1000;
        const past = (Date.now() - 60_000) * 1000;

        expect((await store.releaseBlobs(keys, { olderThanMicros: past })).sort()).toEqual([orphan]);
        expect((await store.releaseBlobs(keys, { olderThanMicros: future, dryRun: true })).sort()).toEqual(
          [unused.key, orphan].sort(),
        );
        expect(await store.linkFile(recipeOwner(r1), 'again.tgz', unused.key)).toBe(true);
        expect(await store.deleteRecipeRevision(r1)).toBe(true);
        // A deleted revision's records stay until purged; a dry run already counts its blobs.
        expect((await store.releaseBlobs(keys, { olderThanMicros: future, dryRun: true })).sort()).toEqual([...keys].sort());
        expect(await store.releaseBlobs(keys, { olderThanMicros: future })).toEqual([orphan]);
        expect(await store.purgeUnpublished({ olderThanMicros: future })).toEqual({ recipeRevisions: 1, packageRevisions: 0 });
        expect((await store.releaseBlobs(keys, { olderThanMicros: future })).sort()).toEqual([...keys].sort());
        // Released records are gone: they can be neither found nor linked.
        expect(await store.findBlobsBySha1(used.sha1)).not.toContainEqual(expect.objectContaining({ key: used.key }));
        expect(await store.linkFile(recipeOwner(r1), 'conanfile.py', used.key)).toBe(false);
        expect(await store.releaseBlobs([], { olderThanMicros: future })).toEqual([]);
      }),
    );

    it(
      'keeps a blob that was linked after the collection cutoff',
      withStore(async (store) => {
        const stored = blob();
        await store.recordFile(recipeOwner(rrev(hello, 'aaa1')), 'conan_export.tgz', stored);
        await store.deleteRecipeRevision(rrev(hello, 'aaa1'));
        await store.purgeUnpublished({ olderThanMicros: (Date.now() + 60_000) * 1000 });
        await new Promise((resolve) => setTimeout(resolve, 50));
        const cutoff = Date.now() * 1000;
        await new Promise((resolve) => setTimeout(resolve, 50));
        expect(await store.linkFile(recipeOwner(rrev(hello, 'aaa2')), 'conan_export.tgz', stored.key)).toBe(true);
        await store.deleteRecipeRevision(rrev(hello, 'aaa2'));
        await store.purgeUnpublished({ olderThanMicros: (Date.now() + 60_000) * 1000 });
        // Unused again, but its record is younger than the cutoff.
        expect(await store.releaseBlobs([stored.key], { olderThanMicros: cutoff })).toEqual([]);
      }),
    );

    it(
      'ends with the whole revision when a delete lands in the middle of its upload',
      withStore(async (store) => {
        const r1 = rrev(hello, 'aaa1');
        await publishRecipe(store, r1);
        // `conan upload --force` of r1 on one node, `conan remove` of r1 on another.
        await store.recordFile(recipeOwner(r1), 'conan_export.tgz', blob());
        expect(await store.deleteRecipeRevision(r1)).toBe(true);
        expect(await store.recipeRevision(r1)).toBeUndefined();
        expect(await store.deleteRecipeRevision(r1)).toBe(false);
        await store.recordFile(recipeOwner(r1), 'conanfile.py', blob());
        expect(await store.recipeRevision(r1)).toBeUndefined();
        await store.recordFile(recipeOwner(r1), MANIFEST_FILE, blob());
        expect((await store.files(recipeOwner(r1)))?.map((f) => f.path)).toEqual(['conan_export.tgz', 'conanfile.py', MANIFEST_FILE]);
      }),
    );

    it(
      'hides the binaries of a deleted recipe revision, and does not bring them back with it',
      withStore(async (store) => {
        const r1 = rrev(hello, 'aaa1');
        const p1 = prev(r1, 'f00d', 'bbb1');
        await publishRecipe(store, r1);
        await publishPackage(store, p1);
        expect(await store.deleteRecipe(hello)).toBe(true);
        expect(await store.deleteRecipe(hello)).toBe(false);
        expect(await store.searchRecipes('')).toEqual([]);
        await publishRecipe(store, r1);
        expect(await latestPackages(store, r1)).toEqual([]);
        expect(await store.deletePackages(r1)).toBe(true);
        expect(await store.deletePackage({ ...r1, packageId: 'f00d' })).toBe(false);
        await publishPackage(store, p1);
        expect((await latestPackages(store, r1)).map((p) => p.revision)).toEqual(['bbb1']);
      }),
    );

    it(
      'purges unpublished revisions untouched since the cutoff, keeping recent and published ones',
      withStore(async (store) => {
        const deleted = rrev(hello, 'aaa1');
        const published = rrev(hello, 'aaa2');
        await publishRecipe(store, deleted);
        await publishPackage(store, prev(deleted, 'f00d', 'bbb1'));
        await publishRecipe(store, published);
        await publishPackage(store, prev(published, 'f00d', 'bbb1'));
        await store.deletePackageRevision(prev(published, 'f00d', 'bbb1'));
        await store.deleteRecipeRevision(deleted);
        await store.recordFile(recipeOwner(rrev(helloAcme, 'aaa3')), 'conanfile.py', blob());
        const past = (Date.now() - 60_000) * 1000;
        const future = (Date.now() + 60_000) * 1000;

        expect(await store.purgeUnpublished({ olderThanMicros: past })).toEqual({ recipeRevisions: 0, packageRevisions: 0 });
        expect(await store.purgeUnpublished({ olderThanMicros: future, dryRun: true })).toEqual({ recipeRevisions: 2, packageRevisions: 2 });
        expect(await store.purgeUnpublished({ olderThanMicros: future })).toEqual({ recipeRevisions: 2, packageRevisions: 2 });
        expect(await store.purgeUnpublished({ olderThanMicros: future })).toEqual({ recipeRevisions: 0, packageRevisions: 0 });
        expect((await store.recipeRevisions(hello)).map((r) => r.revision)).toEqual(['aaa2']);
        // Purged for good: uploading it again starts from nothing.
        await store.recordFile(recipeOwner(deleted), MANIFEST_FILE, blob());
        expect((await store.files(recipeOwner(deleted)))?.map((f) => f.path)).toEqual([MANIFEST_FILE]);
        expect(await latestPackages(store, deleted)).toEqual([]);
      }),
    );

    it(
      'leaves a file unchanged when the same bytes are recorded again, and refuses other bytes in a published revision (issue 8 item 8)',
      withStore(async (store) => {
        const r1 = rrev(hello, 'aaa1');
        const sources = textBlob('sources', false);
        await store.recordFile(recipeOwner(r1), 'conan_sources.tgz', sources);
        await publishRecipe(store, r1);
        const again = textBlob('sources', false);
        expect(await store.recordFile(recipeOwner(r1), 'conan_sources.tgz', again)).toEqual({ status: 'unchanged', blobKey: sources.key });
        expect((await store.file(recipeOwner(r1), 'conan_sources.tgz'))?.blobKey).toBe(sources.key);
        // The unchanged copy was not recorded: nothing uses it, nothing keeps it.
        expect(await store.releaseBlobs([again.key], { olderThanMicros: (Date.now() + 60_000) * 1000 })).toEqual([again.key]);
        // The same bytes brought back because the recorded copy went missing from the blob store.
        const restored = textBlob('sources', false);
        expect(await store.recordFile(recipeOwner(r1), 'conan_sources.tgz', restored, { replaceSameBytes: true })).toEqual({ status: 'recorded' });
        expect((await store.file(recipeOwner(r1), 'conan_sources.tgz'))?.blobKey).toBe(restored.key);

        const other = textBlob('other sources', false);
        await expect(store.recordFile(recipeOwner(r1), 'conan_sources.tgz', other)).rejects.toBeInstanceOf(RevisionOverwriteError);
        await expect(store.recordFile(recipeOwner(r1), 'conan_sources.tgz', other)).rejects.toMatchObject({ path: 'conan_sources.tgz' });
        expect(await store.linkFile(recipeOwner(r1), 'conan_sources.tgz', other.key)).toBe(false);
        expect((await store.file(recipeOwner(r1), 'conan_sources.tgz'))?.blobKey).toBe(restored.key);
        expect(await store.recordFile(recipeOwner(r1), 'conan_sources.tgz', other, { allowOverwrite: true })).toEqual({ status: 'recorded' });
        expect((await store.file(recipeOwner(r1), 'conan_sources.tgz'))?.blobKey).toBe(other.key);

        // metadata/* files change freely, and new files may be added.
        await store.recordFile(recipeOwner(r1), 'metadata/logs/build.log', textBlob('one', false));
        await store.recordFile(recipeOwner(r1), 'metadata/logs/build.log', textBlob('two', false));
        await store.recordFile(recipeOwner(r1), 'extra.txt', textBlob('extra', false));
        expect((await store.files(recipeOwner(r1)))?.map((f) => f.path)).toEqual(
          expect.arrayContaining(['metadata/logs/build.log', 'extra.txt']),
        );
      }),
    );

    it(
      'refuses a manifest that contradicts conanfile.py or conaninfo.txt, and changes nothing (issue 8 item 8)',
      withStore(async (store) => {
        const r1 = rrev(hello, 'aaa1');
        await store.recordFile(recipeOwner(r1), 'conanfile.py', textBlob('recipe', false));
        const wrong = manifestOf({ 'conanfile.py': 'another recipe' });
        const refused = store.recordFile(recipeOwner(r1), MANIFEST_FILE, wrong);
        await expect(refused).rejects.toBeInstanceOf(ManifestMismatchError);
        await expect(refused).rejects.toMatchObject({ path: 'conanfile.py', listedMd5: md5('another recipe'), actualMd5: md5('recipe') });
        expect(await store.recipeRevision(r1)).toBeUndefined();
        expect(await store.releaseBlobs([wrong.key], { olderThanMicros: (Date.now() + 60_000) * 1000 })).toEqual([wrong.key]);
        // Linked bytes are held to the same rule.
        await store.recordFile(recipeOwner(rrev(helloAcme, 'aaa1')), 'conanfile.py', textBlob('another recipe', false));
        const elsewhere = manifestOf({ 'conanfile.py': 'another recipe' });
        await store.recordFile(recipeOwner(rrev(helloAcme, 'aaa1')), MANIFEST_FILE, elsewhere);
        await expect(store.linkFile(recipeOwner(r1), MANIFEST_FILE, elsewhere.key)).rejects.toBeInstanceOf(ManifestMismatchError);
        expect(await store.recipeRevision(r1)).toBeUndefined();

        // A manifest that lists the file with its md5, or does not list it, is fine.
        await store.recordFile(recipeOwner(r1), MANIFEST_FILE, manifestOf({ 'conanfile.py': 'recipe', 'other.h': 'x' }));
        expect(await store.recipeRevision(r1)).toBeDefined();
        const r2 = rrev(hello, 'aaa2');
        await store.recordFile(recipeOwner(r2), 'conanfile.py', textBlob('recipe 2', false));
        await store.recordFile(recipeOwner(r2), MANIFEST_FILE, manifestOf({ 'other.h': 'x' }));
        expect(await store.recipeRevision(r2)).toBeDefined();

        const p1 = prev(r1, 'f00d', 'bbb1');
        await store.recordFile(packageOwner(p1), 'conaninfo.txt', textBlob('[settings]\nos=Linux\n'));
        await expect(
          store.recordFile(packageOwner(p1), MANIFEST_FILE, manifestOf({ 'conaninfo.txt': '[settings]\nos=Windows\n' })),
        ).rejects.toMatchObject({ path: 'conaninfo.txt' });
        expect(await latestPackages(store, r1)).toEqual([]);
        await store.recordFile(packageOwner(p1), MANIFEST_FILE, manifestOf({ 'conaninfo.txt': '[settings]\nos=Linux\n' }));
        expect((await latestPackages(store, r1)).map((p) => p.revision)).toEqual(['bbb1']);
      }),
    );

    it(
      'refuses to replace the conanfile.py of a published revision with bytes its manifest contradicts, even when overwriting',
      withStore(async (store) => {
        const r1 = rrev(hello, 'aaa1');
        const original = textBlob('recipe', false);
        await store.recordFile(recipeOwner(r1), 'conanfile.py', original);
        await store.recordFile(recipeOwner(r1), MANIFEST_FILE, manifestOf({ 'conanfile.py': 'recipe' }));
        const tampered = textBlob('tampered', false);
        await expect(store.recordFile(recipeOwner(r1), 'conanfile.py', tampered)).rejects.toBeInstanceOf(RevisionOverwriteError);
        await expect(store.recordFile(recipeOwner(r1), 'conanfile.py', tampered, { allowOverwrite: true })).rejects.toMatchObject({
          name: 'ManifestMismatchError',
          listedMd5: md5('recipe'),
          actualMd5: md5('tampered'),
        });
        // Nor may the manifest be replaced by one contradicting it.
        await expect(
          store.recordFile(recipeOwner(r1), MANIFEST_FILE, manifestOf({ 'conanfile.py': 'tampered' }), { allowOverwrite: true }),
        ).rejects.toBeInstanceOf(ManifestMismatchError);
        expect((await store.file(recipeOwner(r1), 'conanfile.py'))?.blobKey).toBe(original.key);

        // Files stored without md5 (before it was kept) are no constraint.
        const r2 = rrev(hello, 'aaa2');
        await store.recordFile(recipeOwner(r2), 'conanfile.py', blob());
        await store.recordFile(recipeOwner(r2), MANIFEST_FILE, manifestOf({ 'conanfile.py': 'anything' }));
        expect(await store.recipeRevision(r2)).toBeDefined();
      }),
    );

    it(
      'links conanfile.py, conaninfo.txt and conanmanifest.txt only to bytes whose md5 and text were kept',
      withStore(async (store) => {
        const r1 = rrev(hello, 'aaa1');
        const plain = blob();
        const withMd5 = textBlob('recipe', false);
        const withText = textBlob('[settings]\n');
        for (const [path, record] of [['a.tgz', plain], ['conanfile.py', withMd5], ['conaninfo.txt', withText]] as const) {
          await store.recordFile(recipeOwner(r1), path, record);
        }
        const target = (path: string) => store.linkFile(packageOwner(prev(r1, 'f00d', 'bbb1')), path, plain.key);
        expect(await target('conanfile.py')).toBe(false);
        expect(await target('conaninfo.txt')).toBe(false);
        expect(await target(MANIFEST_FILE)).toBe(false);
        expect(await target('conan_package.tgz')).toBe(true);
        const owner = packageOwner(prev(r1, 'f00d', 'bbb2'));
        expect(await store.linkFile(owner, 'conanfile.py', withMd5.key)).toBe(true);
        expect(await store.linkFile(owner, 'conaninfo.txt', withMd5.key)).toBe(false);
        expect(await store.linkFile(owner, 'conaninfo.txt', withText.key)).toBe(true);
      }),
    );

    it(
      'lists the latest binaries of a recipe revision with their conaninfo.txt text in one call (issue 8 item 5)',
      withStore(async (store) => {
        const r1 = rrev(hello, 'aaa1');
        expect(await store.latestBinaries(r1)).toBeUndefined();
        await publishRecipe(store, r1);
        expect(await store.latestBinaries(r1)).toEqual([]);
        const info = (os: string) => `[settings]\nos=${os}\n`;
        for (const [packageId, revision, os] of [
          ['f00d', 'bbb1', 'Linux'],
          ['f00d', 'bbb2', 'Windows'],
          ['cafe', 'ccc1', 'Macos'],
        ] as const) {
          const owner = packageOwner(prev(r1, packageId, revision));
          await store.recordFile(owner, 'conaninfo.txt', textBlob(info(os)));
          await store.recordFile(owner, MANIFEST_FILE, manifestOf({ 'conaninfo.txt': info(os) }));
        }
        // Unpublished, without conaninfo.txt, and stored before the text was kept.
        await store.recordFile(packageOwner(prev(r1, 'cafe', 'ccc2')), 'conaninfo.txt', textBlob(info('Android')));
        await store.recordFile(packageOwner(prev(r1, 'beef', 'ddd1')), MANIFEST_FILE, blob());
        const legacy = textBlob(info('FreeBSD'), false);
        delete legacy.md5;
        await store.recordFile(packageOwner(prev(r1, 'dead', 'eee1')), 'conaninfo.txt', legacy);
        await store.recordFile(packageOwner(prev(r1, 'dead', 'eee1')), MANIFEST_FILE, blob());

        const binaries = await store.latestBinaries(r1);
        const byId = Object.fromEntries(binaries!.map((b) => [b.packageId, b]));
        expect(Object.keys(byId).sort()).toEqual(['beef', 'cafe', 'dead', 'f00d']);
        expect(byId.f00d).toMatchObject({ revision: 'bbb2', conaninfo: { content: info('Windows'), size: info('Windows').length } });
        expect(byId.cafe).toMatchObject({ revision: 'ccc1', conaninfo: { content: info('Macos') } });
        expect(byId.beef!.conaninfo).toBeUndefined();
        expect(byId.dead!.conaninfo).toEqual({ blobKey: legacy.key, size: legacy.size });
        const latest = await latestPackages(store, r1);
        for (const entry of latest) {
          expect(byId[entry.packageId]).toMatchObject({ revision: entry.revision, timeMicros: entry.timeMicros });
        }
        expect(await store.latestBinaries(rrev(hello, 'aaa2'))).toBeUndefined();
        expect(await store.deleteRecipeRevision(r1)).toBe(true);
        expect(await store.latestBinaries(r1)).toBeUndefined();
      }),
    );

    it(
      'keeps text with NUL characters on every database, as U+FFFD',
      withStore(async (store) => {
        const r1 = rrev(hello, 'aaa1');
        await publishRecipe(store, r1);
        const p1 = packageOwner(prev(r1, 'f00d', 'bbb1'));
        await store.recordFile(p1, 'conaninfo.txt', textBlob('[settings]\nos=\0Linux\n'));
        await store.recordFile(p1, MANIFEST_FILE, textBlob('1700000000\nconaninfo.txt\0: 0123\n'));
        expect((await store.latestBinaries(r1))?.[0]?.conaninfo?.content).toBe('[settings]\nos=\uFFFDLinux\n');
      }),
    );

    it(
      'converges racing records of one revision with different conanfile.py to a consistent revision (issue 8 item 8)',
      withStore(async (store) => {
        const r1 = rrev(hello, 'aaa1');
        const outcomes = await Promise.all(
          Array.from({ length: 20 }, async (_, i) => {
            const recipe = `# racer ${i}`;
            try {
              await store.recordFile(recipeOwner(r1), 'conanfile.py', textBlob(recipe, false), { allowOverwrite: true });
              await store.recordFile(recipeOwner(r1), MANIFEST_FILE, manifestOf({ 'conanfile.py': recipe }), { allowOverwrite: true });
              return 'published';
            } catch (error) {
              expect(error).toBeInstanceOf(ManifestMismatchError);
              return 'refused';
            }
          }),
        );
        expect(outcomes).toContain('published');
        const files = await store.files(recipeOwner(r1));
        const recipe = files!.find((f) => f.path === 'conanfile.py')!;
        const manifest = files!.find((f) => f.path === MANIFEST_FILE)!;
        // The manifest of racer i lists racer i's conanfile.py: both must come from the same racer.
        const racer = (sha: string, make: (i: number) => NewBlob) =>
          Array.from({ length: 20 }, (_, i) => i).find((i) => make(i).sha1 === sha);
        expect(racer(recipe.sha1, (i) => textBlob(`# racer ${i}`, false))).toBe(
          racer(manifest.sha1, (i) => manifestOf({ 'conanfile.py': `# racer ${i}` })),
        );
      }),
    );

    it(
      'audit trail: records publications, overwrites and deletes with their actor, newest first',
      withStore(async (store) => {
        const alice = { user: 'alice', address: '203.0.113.7' };
        const r1 = rrev(hello, 'aaa1');
        await store.recordFile(recipeOwner(r1), 'conanfile.py', blob(), { actor: alice });
        expect(await store.auditEvents({ limit: 10 })).toEqual([]);
        await store.recordFile(recipeOwner(r1), MANIFEST_FILE, blob(), { actor: alice });
        const p1 = prev(r1, 'f00d', 'bbb1');
        await store.recordFile(packageOwner(p1), 'conaninfo.txt', blob(), { actor: alice });
        await store.recordFile(packageOwner(p1), MANIFEST_FILE, blob(), { actor: alice });
        await store.recordFile(recipeOwner(r1), 'conanfile.py', blob('c'.repeat(40)), { allowOverwrite: true, actor: { user: 'bob', tokenId: 't1' } });
        expect(await store.deletePackageRevision(p1, { user: 'bob' })).toBe(true);
        expect(await store.deleteRecipe(hello, { user: 'carol', address: '::1' })).toBe(true);
        // Deletes that change nothing record nothing.
        expect(await store.deleteRecipe(hello, { user: 'carol' })).toBe(false);

        const events = await store.auditEvents({ limit: 10 });
        expect(events.map((e) => [e.kind, e.ref, e.actor])).toEqual([
          ['recipe.deleted', 'hello/1.0', { user: 'carol', address: '::1' }],
          ['package_revision.deleted', 'hello/1.0#aaa1:f00d#bbb1', { user: 'bob' }],
          ['file.overwritten', 'hello/1.0#aaa1', { user: 'bob', tokenId: 't1' }],
          ['package.published', 'hello/1.0#aaa1:f00d#bbb1', alice],
          ['recipe.published', 'hello/1.0#aaa1', alice],
        ]);
        expect(events[2]!.detail).toBe('conanfile.py');
        for (let i = 1; i < events.length; i++) expect(events[i - 1]!.atMicros).toBeGreaterThanOrEqual(events[i]!.atMicros);

        expect((await store.auditEvents({ limit: 2 })).map((e) => e.kind)).toEqual(['recipe.deleted', 'package_revision.deleted']);
        expect((await store.auditEvents({ limit: 10, user: 'bob' })).length).toBe(2);
        expect((await store.auditEvents({ limit: 10, refMatches: (ref) => ref.includes(':') })).length).toBe(2);
        expect(await store.auditEvents({ limit: 10, sinceMicros: events[0]!.atMicros + 1 })).toEqual([]);
      }),
    );

    it(
      'audit trail: a refused overwrite or a failed change writes no event',
      withStore(async (store) => {
        const r1 = rrev(hello, 'aaa1');
        await publishRecipe(store, r1);
        const before = await store.auditEvents({ limit: 10 });
        await expect(store.recordFile(recipeOwner(r1), 'conanfile.py', blob('c'.repeat(40)), { actor: { user: 'eve' } })).rejects.toBeInstanceOf(
          RevisionOverwriteError,
        );
        await expect(
          store.recordFile(recipeOwner(rrev(hello, 'aaa2')), MANIFEST_FILE, manifestOf({ 'conanfile.py': 'x' }), { actor: { user: 'eve' } }),
        ).resolves.toEqual({ status: 'recorded' });
        // That manifest published aaa2 (no conanfile.py to contradict it); a contradicting one must not.
        const r3 = rrev(hello, 'aaa3');
        await store.recordFile(recipeOwner(r3), 'conanfile.py', textBlob('y'));
        await expect(
          store.recordFile(recipeOwner(r3), MANIFEST_FILE, manifestOf({ 'conanfile.py': 'x' }), { actor: { user: 'eve' } }),
        ).rejects.toBeInstanceOf(ManifestMismatchError);
        const after = await store.auditEvents({ limit: 10 });
        expect(after.length).toBe(before.length + 1);
        expect(after[0]).toMatchObject({ kind: 'recipe.published', ref: 'hello/1.0#aaa2' });
        expect(after.some((e) => e.kind === 'file.overwritten' || e.ref === 'hello/1.0#aaa3')).toBe(false);
      }),
    );

    it(
      'audit trail: user changes are recorded; pruning removes only old events',
      withStore(async (store) => {
        const admin = { user: 'root' };
        expect(await store.addUser('dave', 'h1', admin)).toBe(true);
        expect(await store.addUser('dave', 'h2', admin)).toBe(false);
        await store.setPasswordHash('dave', 'h3', admin);
        expect(await store.deleteUser('dave', admin)).toBe(true);
        expect(await store.deleteUser('dave', admin)).toBe(false);
        const events = await store.auditEvents({ limit: 10 });
        expect(events.map((e) => [e.kind, e.ref])).toEqual([
          ['user.removed', 'dave'],
          ['user.password_changed', 'dave'],
          ['user.added', 'dave'],
        ]);
        // Only events strictly older than the cut-off go (several may share a clock tick).
        expect(await store.pruneAudit(events[2]!.atMicros)).toBe(0);
        expect(await store.pruneAudit(events[0]!.atMicros + 1, { dryRun: true })).toBe(3);
        expect((await store.auditEvents({ limit: 10 })).length).toBe(3);
        expect(await store.pruneAudit(events[0]!.atMicros + 1)).toBe(3);
        expect(await store.auditEvents({ limit: 10 })).toEqual([]);
      }),
    );

    it(
      'download counts: aggregate per revision per day, one row each',
      withStore(async (store) => {
        await store.addDownloads([
          { kind: 'recipe', ref: 'hello/1.0#aaa1', day: '2026-01-02', count: 2 },
          { kind: 'package', ref: 'hello/1.0#aaa1:f00d#bbb1', day: '2026-01-02', count: 1 },
        ]);
        await store.addDownloads([
          { kind: 'recipe', ref: 'hello/1.0#aaa1', day: '2026-01-02', count: 3 },
          { kind: 'recipe', ref: 'hello/1.0#aaa1', day: '2026-01-03', count: 1 },
        ]);
        expect(await store.downloadCounts('recipe', 'hello/1.0#aaa1')).toEqual([
          { kind: 'recipe', ref: 'hello/1.0#aaa1', day: '2026-01-03', count: 1 },
          { kind: 'recipe', ref: 'hello/1.0#aaa1', day: '2026-01-02', count: 5 },
        ]);
        expect((await store.downloadCounts('package', 'hello/1.0#aaa1:f00d#bbb1'))[0]!.count).toBe(1);
      }),
    );

    it(
      'lists visible recipe names for the web API, paged in code-unit order, with their histories',
      withStore(async (store) => {
        for (const name of ['zlib', 'Zeta', 'zstd', 'abc', 'my_lib', 'my-lib']) await publishRecipe(store, rrev({ name, version: '1.0' }, `${name}1`));
        await publishRecipe(store, rrev({ name: 'zlib', version: '1.3', user: 'acme', channel: 'stable' }, 'z2'));
        // Unpublished and deleted recipes are not listed.
        await store.recordFile(recipeOwner(rrev({ name: 'zhidden', version: '1.0' }, 'h1')), 'conanfile.py', blob());
        await publishRecipe(store, rrev({ name: 'zgone', version: '1.0' }, 'g1'));
        await store.deleteRecipe({ name: 'zgone', version: '1.0' });

        expect(await store.visibleRecipeNames({ namePrefix: '', offset: 0, limit: 10 })).toEqual({
          names: ['Zeta', 'abc', 'my-lib', 'my_lib', 'zlib', 'zstd'],
          total: 6,
        });
        expect(await store.visibleRecipeNames({ namePrefix: 'Z', offset: 1, limit: 1 })).toEqual({ names: ['zlib'], total: 3 });
        expect(await store.visibleRecipeNames({ namePrefix: 'my_', offset: 0, limit: 5 })).toEqual({ names: ['my_lib'], total: 1 });

        // A revision deleted, the other left: still listed; both gone: not.
        await publishRecipe(store, rrev({ name: 'abc', version: '1.0' }, 'abc2'));
        await store.deleteRecipeRevision(rrev({ name: 'abc', version: '1.0' }, 'abc2'));
        const histories = await store.recipeHistories(['zlib', 'abc', 'zgone', 'zhidden']);
        expect(histories.map((h) => [h.ref, h.revisions.map((r) => r.revision)])).toEqual([
          [{ name: 'abc', version: '1.0' }, ['abc1']],
          [{ name: 'zlib', version: '1.0' }, ['zlib1']],
          [{ name: 'zlib', version: '1.3', user: 'acme', channel: 'stable' }, ['z2']],
        ]);
        await store.deleteRecipeRevision(rrev({ name: 'abc', version: '1.0' }, 'abc1'));
        expect((await store.visibleRecipeNames({ namePrefix: 'a', offset: 0, limit: 5 })).total).toBe(0);
        // Published again: listed again.
        await publishRecipe(store, rrev({ name: 'abc', version: '1.0' }, 'abc1'));
        expect((await store.visibleRecipeNames({ namePrefix: 'a', offset: 0, limit: 5 })).names).toEqual(['abc']);
      }),
    );

    it(
      'lists every visible recipe name at once (a pattern search reads them all), mixed case, one per name',
      withStore(async (store) => {
        const all = (namePrefix: string) => store.visibleRecipeNames({ namePrefix, offset: 0, limit: Number.MAX_SAFE_INTEGER });
        expect(await all('')).toEqual({ names: [], total: 0 });
        for (const name of ['zlib', 'ZLIB', 'Zeta', 'zeta_x', 'abc', 'a99', 'B199', 'zm']) await publishRecipe(store, rrev({ name, version: '1.0' }, `${name}1`));
        await publishRecipe(store, rrev({ name: 'zlib', version: '1.3', user: 'acme', channel: 'stable' }, 'z2'));
        await publishRecipe(store, rrev({ name: 'zlib', version: '2.0' }, 'z3'));
        await store.recordFile(recipeOwner(rrev({ name: 'zl_hidden', version: '1.0' }, 'h1')), 'conanfile.py', blob());
        await publishRecipe(store, rrev({ name: 'zlgone', version: '1.0' }, 'g1'));
        await store.deleteRecipe({ name: 'zlgone', version: '1.0' });

        expect(await all('')).toEqual({ names: ['B199', 'ZLIB', 'Zeta', 'a99', 'abc', 'zeta_x', 'zlib', 'zm'], total: 8 });
        expect(await all('z')).toEqual({ names: ['ZLIB', 'Zeta', 'zeta_x', 'zlib', 'zm'], total: 5 });
        expect(await all('zL')).toEqual({ names: ['ZLIB', 'zlib'], total: 2 });
        expect(await all('ZETA_')).toEqual({ names: ['zeta_x'], total: 1 });
        expect(await all('b1')).toEqual({ names: ['B199'], total: 1 });
        expect(await all('zlib2')).toEqual({ names: [], total: 0 });
        expect(await all('\u00e9')).toEqual({ names: [], total: 0 });
        expect(await all('z\uffff')).toEqual({ names: [], total: 0 });
      }),
    );

    it(
      'details the binaries of a recipe revision with their revisions, files and conaninfo.txt',
      withStore(async (store) => {
        const r1 = rrev(hello, 'aaa1');
        await publishRecipe(store, r1);
        expect(await store.packageDetails(rrev(hello, 'nope'))).toBeUndefined();
        expect(await store.packageDetails(r1)).toEqual([]);
        const info = '[settings]\nos=Linux\n[requires]\nzlib/1.3.Z\n';
        await store.recordFile(packageOwner(prev(r1, 'p1', 'b1')), 'conaninfo.txt', textBlob(info));
        await store.recordFile(packageOwner(prev(r1, 'p1', 'b1')), MANIFEST_FILE, textBlob('1\n'));
        await store.recordFile(packageOwner(prev(r1, 'p1', 'b2')), 'conaninfo.txt', textBlob(`${info}\n`));
        await store.recordFile(packageOwner(prev(r1, 'p1', 'b2')), 'conan_package.tgz', { ...blob(), size: 1234 });
        await store.recordFile(packageOwner(prev(r1, 'p1', 'b2')), MANIFEST_FILE, textBlob('2\n'));
        await publishPackage(store, prev(r1, 'p0', 'c1'));
        await store.recordFile(packageOwner(prev(r1, 'p2', 'unpublished')), 'conaninfo.txt', textBlob(info));

        const details = await store.packageDetails(r1);
        expect(details!.map((d) => d.packageId)).toEqual(['p0', 'p1']);
        const p1 = details![1]!;
        expect(p1.conaninfo).toBe(`${info}\n`);
        expect(p1.revisions.map((r) => r.revision)).toEqual(['b2', 'b1']);
        expect(p1.revisions[0]!.files).toEqual([
          { path: 'conan_package.tgz', size: 1234 },
          { path: 'conaninfo.txt', size: info.length + 1 },
          { path: MANIFEST_FILE, size: 2 },
        ]);
      }),
    );

    it(
      'finds the binaries that require a recipe through their conaninfo.txt, visible ones only',
      withStore(async (store) => {
        const app = rrev({ name: 'app', version: '2.0' }, 'app1');
        const tool = rrev({ name: 'tool', version: '1.0', user: 'acme', channel: 'stable' }, 'tool1');
        await publishRecipe(store, app);
        await publishRecipe(store, tool);
        const info = (requires: string) => textBlob(`[settings]\nos=Linux\n[requires]\n${requires}\n[options]\nshared=False\n`);
        await store.recordFile(packageOwner(prev(app, 'pa', 'a1')), 'conaninfo.txt', info('zlib/1.3.Z\nopenssl/3.1.1#r1:p'));
        await store.recordFile(packageOwner(prev(app, 'pa', 'a1')), MANIFEST_FILE, textBlob('1\n'));
        await store.recordFile(packageOwner(prev(tool, 'pt', 't1')), 'conaninfo.txt', info('zlib/1.2.13@acme/stable'));
        await store.recordFile(packageOwner(prev(tool, 'pt', 't1')), MANIFEST_FILE, textBlob('2\n'));
        // Not published: not a dependent (yet).
        await store.recordFile(packageOwner(prev(tool, 'pu', 'u1')), 'conaninfo.txt', info('zlib/9.0'));

        const zlib = await store.dependents('zlib', 100);
        expect(zlib.map((d) => [d.ref.name, d.ref.revision, d.packageId, d.requires, d.version])).toEqual([
          ['app', 'app1', 'pa', 'zlib/1.3.Z', '1.3.Z'],
          ['tool', 'tool1', 'pt', 'zlib/1.2.13@acme/stable', '1.2.13'],
        ]);
        expect((await store.dependents('openssl', 100)).map((d) => d.requires)).toEqual(['openssl/3.1.1#r1:p']);
        expect(await store.dependents('zlib', 1)).toHaveLength(1);
        expect(await store.dependents('nothing', 10)).toEqual([]);

        await store.deletePackage(prev(app, 'pa', 'a1'));
        expect((await store.dependents('zlib', 100)).map((d) => d.ref.name)).toEqual(['tool']);
        await store.deleteRecipe(tool);
        expect(await store.dependents('zlib', 100)).toEqual([]);
        // Garbage collection removes what the index held of purged binaries.
        await store.purgeUnpublished({ olderThanMicros: Date.now() * 1000 + 60_000_000 });
        expect(await store.dependents('zlib', 100)).toEqual([]);
      }),
    );

    it(
      'counts what is visible and lists recent publications, newest first',
      withStore(async (store) => {
        expect(await store.totals()).toEqual({ recipes: 0, revisions: 0, binaries: 0, bytes: 0 });
        const r1 = rrev(hello, 'aaa1');
        const r2 = rrev(hello, 'aaa2');
        const r3 = rrev(helloAcme, 'ccc1');
        // Apart in time: two recipes' publications in the same microsecond would have no order.
        const tick = () => new Promise((resolve) => setTimeout(resolve, 2));
        await publishRecipe(store, r1);
        await tick();
        await publishRecipe(store, r2);
        await tick();
        await publishRecipe(store, r3);
        await publishPackage(store, prev(r1, 'p1', 'b1'));
        await publishPackage(store, prev(r1, 'p1', 'b2'));
        await store.recordFile(recipeOwner(rrev(hello, 'unpublished')), 'conanfile.py', blob());
        // Each test blob is 3 bytes: 3 recipe revisions and 2 binaries of 2 files each.
        expect(await store.totals()).toEqual({ recipes: 2, revisions: 3, binaries: 2, bytes: 5 * 2 * 3 });

        const recent = await store.recentRecipeRevisions(10);
        expect(recent.map((r) => r.ref.revision)).toEqual(['ccc1', 'aaa2', 'aaa1']);
        expect(recent[0]!.ref).toEqual(r3);
        const older = await store.recentRecipeRevisions(10, recent[0]!.timeMicros);
        expect(older.map((r) => r.ref.revision)).toEqual(['aaa2', 'aaa1']);
        expect(await store.recentRecipeRevisions(1)).toHaveLength(1);

        await store.deleteRecipeRevision(r2);
        expect((await store.recentRecipeRevisions(10)).map((r) => r.ref.revision)).toEqual(['ccc1', 'aaa1']);
        expect(await store.totals()).toMatchObject({ recipes: 2, revisions: 2, binaries: 2 });
        await store.deleteRecipe(hello);
        expect(await store.totals()).toEqual({ recipes: 1, revisions: 1, binaries: 0, bytes: 6 });
      }),
    );

    it(
      'can be migrated again without harm',
      withStore(async (store) => {
        const migratable = store as MetadataStore & { migrate?(): Promise<unknown> };
        if (migratable.migrate) {
          await migratable.migrate();
          await migratable.migrate();
        }
        await publishRecipe(store, rrev(hello, 'aaa1'));
        expect((await store.recipeRevisions(hello)).length).toBe(1);
        await expect(store.ping()).resolves.toBeUndefined();
      }),
    );
  });
}
