import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { BlobStoreUnavailableError, ID_RULE, type BlobStore, type FileOwner } from '@cimmeria/core';
import { createSqliteMetadataStore, type SqliteMetadata } from '@cimmeria/metadata-sqlite';
import { FsBlobStore } from '@cimmeria/storage-fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseRevisionList, secondsToMicros } from '../src/import/conan-server-layout.js';
import {
  importConanServer,
  type ImportConanServerOptions,
  type ImportProblem,
  type ImportProgress,
  type ImportReport,
} from '../src/import/conan-server-import.js';

// The importer is run against real stores (SQLite and a folder) and a
// conan_server data folder written here the way conan_server 2 lays it out.

const sha1 = (text: string) => createHash('sha1').update(text).digest('hex');
const rev = (c: string) => c.repeat(32);
const PKG_LINUX = 'a'.repeat(40);
const PKG_WINDOWS = 'b'.repeat(40);
const HELLO = { name: 'hello', version: '1.0' };
const LIB = { name: 'lib', version: '2.0', user: 'acme', channel: 'stable' };

type StoreFiles = Record<string, string | object>;

/** Writes files of a conan_server data folder: path -> content (objects are written as JSON). */
async function writeStore(root: string, files: StoreFiles): Promise<void> {
  for (const [path, content] of Object.entries(files)) {
    await mkdir(dirname(join(root, path)), { recursive: true });
    await writeFile(join(root, path), typeof content === 'string' ? content : JSON.stringify(content));
  }
}

/** A `revisions.txt`, oldest first, as conan_server writes it. */
const revisions = (...entries: [string, number | string][]) => ({ revisions: entries.map(([revision, time]) => ({ revision, time })) });

/** The files of one revision folder, under `at`. */
const revisionFolder = (at: string, files: Record<string, string>): StoreFiles =>
  Object.fromEntries(Object.entries(files).map(([path, content]) => [`${at}/${path}`, content]));

/** A healthy store: two recipes (one with user/channel), revisions and binaries, metadata files, lock files. */
function goodStore(): StoreFiles {
  const hello = 'hello/1.0/_/_';
  const helloB = `${hello}/${rev('b')}`;
  return {
    // Times out of order on purpose: the list order wins, each at least 1 µs after the previous.
    [`${hello}/revisions.txt`]: revisions([rev('a'), 1600000000.5], [rev('b'), 1795399591.892445], [rev('c'), 1600000050]),
    [`${hello}/revisions.txt.lock`]: '',
    ...revisionFolder(`${hello}/${rev('a')}/export`, {
      'conanfile.py': 'print("a")\n',
      'conan_export.tgz': 'export-a',
      'conanmanifest.txt': 'manifest a\n',
    }),
    ...revisionFolder(`${helloB}/export`, {
      'conanfile.py': 'print("b")\n',
      'conan_sources.tgz': 'sources-b',
      'conanmanifest.txt': 'manifest b\n',
      'metadata/logs/export.log': 'exported b\n',
      'metadata/deep/er/notes.md': '# notes\n',
    }),
    ...revisionFolder(`${hello}/${rev('c')}/export`, { 'conanfile.py': 'print("c")\n', 'conanmanifest.txt': 'manifest c\n' }),
    // Two binaries of revision b; the Linux one with two package revisions of equal time.
    [`${helloB}/package/${PKG_LINUX}/revisions.txt`]: revisions([rev('1'), 1600000200], [rev('2'), 1600000200]),
    [`${helloB}/package/${PKG_LINUX}/revisions.txt.lock`]: '',
    ...revisionFolder(`${helloB}/package/${PKG_LINUX}/${rev('1')}`, {
      'conaninfo.txt': '[settings]\nos=Linux\n',
      'conan_package.tgz': 'package-1',
      'conanmanifest.txt': 'pm1\n',
    }),
    ...revisionFolder(`${helloB}/package/${PKG_LINUX}/${rev('2')}`, {
      'conaninfo.txt': '[settings]\nos=Linux\n',
      'conan_package.tgz': 'package-2',
      'conanmanifest.txt': 'pm2\n',
      'metadata/logs/build.log': 'built 2\n',
    }),
    [`${helloB}/package/${PKG_WINDOWS}/revisions.txt`]: revisions([rev('3'), 1600000300.000001]),
    ...revisionFolder(`${helloB}/package/${PKG_WINDOWS}/${rev('3')}`, {
      'conaninfo.txt': '[settings]\nos=Windows\n',
      'conan_package.tgz': 'package-3',
      'conanmanifest.txt': 'pm3\n',
    }),
    // User and channel.
    'lib/2.0/acme/stable/revisions.txt': revisions([rev('d'), 1700000000]),
    ...revisionFolder(`lib/2.0/acme/stable/${rev('d')}/export`, { 'conanfile.py': 'lib\n', 'conanmanifest.txt': 'lib manifest\n' }),
  };
}

/** Recipe revisions 4, package revisions 3, in {@link goodStore}. */
const GOOD_FILES = 3 + 5 + 2 + 3 + 4 + 3 + 2;
const GOOD_BYTES = Object.entries(goodStore())
  .filter(([path]) => !path.includes('revisions.txt'))
  .reduce((sum, [, content]) => sum + Buffer.byteLength(content as string), 0);

let dir: string;
let store: string;
let metadata: SqliteMetadata;
let blobs: FsBlobStore;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cimmeria-import-'));
  store = join(dir, 'conan_server', 'data');
  metadata = createSqliteMetadataStore({ filename: join(dir, 'metadata.db') });
  await metadata.store.migrate();
  blobs = new FsBlobStore({ directory: join(dir, 'blobs') });
});
afterEach(async () => {
  await metadata.close();
  await rm(dir, { recursive: true, force: true });
});

/** Runs an import of `store` into the test's stores, collecting what it reports. */
async function runImport(overrides: Partial<ImportConanServerOptions> = {}) {
  const problems: ImportProblem[] = [];
  const progress: ImportProgress[] = [];
  const finals: boolean[] = [];
  const report = await importConanServer({
    directory: store,
    metadata: metadata.store,
    blobs,
    onProblem: (p) => problems.push(p),
    onProgress: (p, final) => {
      progress.push(p);
      finals.push(final);
    },
    ...overrides,
  });
  return { report, problems, progress, finals };
}

async function blobCount(): Promise<number> {
  let count = 0;
  for await (const _ of blobs.list('blobs/')) count += 1;
  return count;
}

async function text(key: string): Promise<string> {
  return new Response((await blobs.get(key)).body).text();
}

/** Each file of a visible revision with the bytes read back from the blob store. */
async function contents(owner: FileOwner): Promise<Record<string, string> | undefined> {
  const files = await metadata.store.files(owner);
  if (!files) return undefined;
  return Object.fromEntries(await Promise.all(files.map(async (f) => [f.path, await text(f.blobKey)] as const)));
}

const recipe = (ref: object, revision: string): FileOwner => ({ kind: 'recipe', ref: { ...HELLO, ...ref, revision } });
const binary = (packageId: string, packageRevision: string): FileOwner => ({
  kind: 'package',
  ref: { ...HELLO, revision: rev('b'), packageId, packageRevision },
});

/** `path: message` of each problem, the path made relative to the data folder by the importer. */
const described = (problems: ImportProblem[]) => problems.map((p) => `${p.path}: ${p.message}`);

describe('importConanServer', () => {
  it('imports every listed revision with all its files, its original time and the original order', async () => {
    await writeStore(store, goodStore());
    const { report, problems, progress, finals } = await runImport();

    expect(problems).toEqual([]);
    expect(report).toEqual({
      recipeRevisions: { imported: 4, present: 0 },
      packageRevisions: { imported: 3, present: 0 },
      files: GOOD_FILES,
      bytes: GOOD_BYTES,
      problems: 0,
      problemList: [],
    });
    // The last call is the final totals, and says so (the CLI prints them once, as its summary).
    const { problemList: _, ...totals } = report;
    expect(progress.at(-1)).toEqual(totals);
    expect(finals.at(-1)).toBe(true);
    expect(finals.filter(Boolean)).toHaveLength(1);

    // Newest first; c was listed last with an older time: it stays the latest, 1 µs after b.
    expect(await metadata.store.recipeRevisions(HELLO)).toEqual([
      { revision: rev('c'), timeMicros: 1795399591892446 },
      { revision: rev('b'), timeMicros: 1795399591892445 },
      { revision: rev('a'), timeMicros: 1600000000500000 },
    ]);
    // Equal times keep the list order.
    const linux = { ...HELLO, revision: rev('b'), packageId: PKG_LINUX };
    expect(await metadata.store.packageRevisions(linux)).toEqual([
      { revision: rev('2'), timeMicros: 1600000200000001 },
      { revision: rev('1'), timeMicros: 1600000200000000 },
    ]);
    expect((await metadata.store.latestBinaries({ ...HELLO, revision: rev('b') }))?.map(({ packageId, revision, timeMicros }) => ({ packageId, revision, timeMicros }))).toEqual([
      { packageId: PKG_LINUX, revision: rev('2'), timeMicros: 1600000200000001 },
      { packageId: PKG_WINDOWS, revision: rev('3'), timeMicros: 1600000300000001 },
    ]);

    // Every file, metadata at any depth included, with its bytes and sha1.
    expect(await contents(recipe({}, rev('b')))).toEqual({
      'conan_sources.tgz': 'sources-b',
      'conanfile.py': 'print("b")\n',
      'conanmanifest.txt': 'manifest b\n',
      'metadata/deep/er/notes.md': '# notes\n',
      'metadata/logs/export.log': 'exported b\n',
    });
    expect((await metadata.store.file(recipe({}, rev('b')), 'metadata/logs/export.log'))!.sha1).toBe(sha1('exported b\n'));
    expect(await contents(binary(PKG_LINUX, rev('2')))).toEqual({
      'conan_package.tgz': 'package-2',
      'conaninfo.txt': '[settings]\nos=Linux\n',
      'conanmanifest.txt': 'pm2\n',
      'metadata/logs/build.log': 'built 2\n',
    });
    expect(await contents(binary(PKG_WINDOWS, rev('3')))).toMatchObject({ 'conan_package.tgz': 'package-3' });

    // `_/_` in the store is no user and channel; others are kept.
    expect(await metadata.store.recipeRevisions(LIB)).toEqual([{ revision: rev('d'), timeMicros: 1700000000000000 }]);
    expect(await contents(recipe(LIB, rev('d')))).toEqual({ 'conanfile.py': 'lib\n', 'conanmanifest.txt': 'lib manifest\n' });
    expect(await metadata.store.searchRecipes('')).toEqual([HELLO, LIB]);
    expect(await blobCount()).toBe(GOOD_FILES);
  });

  it('changes nothing when run again', async () => {
    await writeStore(store, goodStore());
    await runImport();
    const blobsBefore = await blobCount();
    const helloBefore = await metadata.store.recipeRevisions(HELLO);
    const linux = { ...HELLO, revision: rev('b'), packageId: PKG_LINUX };
    const linuxBefore = await metadata.store.packageRevisions(linux);
    const filesBefore = await metadata.store.files(recipe({}, rev('b')));

    const { report, problems } = await runImport();
    expect(problems).toEqual([]);
    expect(report).toEqual({
      recipeRevisions: { imported: 0, present: 4 },
      packageRevisions: { imported: 0, present: 3 },
      files: 0,
      bytes: 0,
      problems: 0,
      problemList: [],
    });
    expect(await blobCount()).toBe(blobsBefore);
    expect(await metadata.store.recipeRevisions(HELLO)).toEqual(helloBefore);
    expect(await metadata.store.packageRevisions(linux)).toEqual(linuxBefore);
    expect(await metadata.store.files(recipe({}, rev('b')))).toEqual(filesBefore);
  });

  it('reports broken entries and imports the good ones around them', async () => {
    const hello = 'hello/1.0/_/_';
    await writeStore(store, {
      ...goodStore(),
      // A recipe whose index is not JSON: nothing of it is imported.
      'broken/1.0/_/_/revisions.txt': 'this is not JSON',
      ...revisionFolder(`broken/1.0/_/_/${rev('e')}/export`, { 'conanfile.py': 'x', 'conanmanifest.txt': 'x' }),
      // An index that is JSON but not a revision list.
      'shape/1.0/_/_/revisions.txt': { revisions: [{ revision: rev('e') }] },
      ...revisionFolder(`shape/1.0/_/_/${rev('e')}/export`, { 'conanmanifest.txt': 'x' }),
      // Listed revisions: one without its manifest (with a binary), one without a folder, one with an invalid revision; a good one after them.
      'zlib/1.0/_/_/revisions.txt': revisions([rev('e'), 1650000000], [rev('7'), 1650000001], ['../escape', 1650000002], [rev('f'), 1650000003]),
      ...revisionFolder(`zlib/1.0/_/_/${rev('e')}/export`, { 'conanfile.py': 'no manifest here' }),
      [`zlib/1.0/_/_/${rev('e')}/package/${PKG_LINUX}/revisions.txt`]: revisions([rev('1'), 1650000010]),
      ...revisionFolder(`zlib/1.0/_/_/${rev('e')}/package/${PKG_LINUX}/${rev('1')}`, { 'conanmanifest.txt': 'orphan binary' }),
      ...revisionFolder(`zlib/1.0/_/_/${rev('f')}/export`, { 'conanfile.py': 'zlib f', 'conanmanifest.txt': 'zlib manifest' }),
      // A revision folder revisions.txt does not list (an upload cut off before its manifest): conan_server does not show it.
      ...revisionFolder(`${hello}/${rev('9')}/export`, { 'conanmanifest.txt': 'unlisted\n' }),
      // Binaries: an unlisted package revision, a package id folder without index, an invalid package id.
      ...revisionFolder(`${hello}/${rev('b')}/package/${PKG_LINUX}/${rev('8')}`, { 'conanmanifest.txt': 'unlisted binary' }),
      ...revisionFolder(`${hello}/${rev('b')}/package/${'c'.repeat(40)}/${rev('4')}`, { 'conanmanifest.txt': 'no index' }),
      [`${hello}/${rev('b')}/package/bad\\id/revisions.txt`]: revisions([rev('4'), 1]),
      // A file name Cimmeria refuses (backslash): the revision is skipped whole rather than imported without it.
      'odd/1.0/_/_/revisions.txt': revisions([rev('a'), 1600000000]),
      ...revisionFolder(`odd/1.0/_/_/${rev('a')}/export`, { 'conanfile.py': 'x', 'conanmanifest.txt': 'x', 'bad\\name.txt': 'x' }),
      // Invalid names.
      '-bad/1.0/_/_/revisions.txt': revisions([rev('a'), 1]),
      [`-bad/1.0/_/_/${rev('a')}/export/conanmanifest.txt`]: 'x',
      'half/1.0/acme/_/revisions.txt': revisions([rev('a'), 1]),
    });
    const { report, problems } = await runImport();

    expect(described(report.problemList)).toEqual([
      expect.stringMatching(/^-bad\/1\.0\/_\/_: Invalid name '-bad'/),
      `broken/1.0/_/_/revisions.txt: not JSON (${errorOfJsonParse('this is not JSON')}): nothing in broken/1.0/_/_ is imported`,
      expect.stringMatching(/^half\/1\.0\/acme\/_: .*user and channel go together/),
      `hello/1.0/_/_/${rev('9')}: not listed in revisions.txt (conan_server does not show it): skipped`,
      `hello/1.0/_/_/${rev('b')}/package/${PKG_LINUX}/${rev('8')}: not listed in revisions.txt (conan_server does not show it): skipped`,
      `hello/1.0/_/_/${rev('b')}/package/bad\\id: invalid package id 'bad\\id': ${ID_RULE}`,
      `hello/1.0/_/_/${rev('b')}/package/${'c'.repeat(40)}/revisions.txt: missing: nothing in hello/1.0/_/_/${rev('b')}/package/${'c'.repeat(40)} is imported`,
      expect.stringMatching(new RegExp(`^odd/1\\.0/_/_/${rev('a')}/export/bad\\\\name\\.txt: odd/1\\.0@_/_#${rev('a')}: Invalid file path .*backslash`)),
      expect.stringMatching(/^shape\/1\.0\/_\/_\/revisions\.txt: not a revision list: revisions\.0\.time: .*nothing in shape\/1\.0\/_\/_ is imported$/),
      `zlib/1.0/_/_/${rev('e')}/export: zlib/1.0@_/_#${rev('e')}: no conanmanifest.txt (an upload that never finished; conan_server does not serve it) (its 1 binary package(s) are skipped with it)`,
      `zlib/1.0/_/_/${rev('7')}/export: zlib/1.0@_/_#${rev('7')}: listed in revisions.txt but its folder is missing`,
      `zlib/1.0/_/_/revisions.txt: invalid recipe revision '../escape': ${ID_RULE}`,
    ]);
    // onProblem saw the same, as they happened.
    expect(problems).toEqual(report.problemList);
    expect(report.problems).toBe(report.problemList.length);

    // Everything good is there, the broken parts are not.
    expect(report.recipeRevisions).toEqual({ imported: 5, present: 0 });
    expect(report.packageRevisions).toEqual({ imported: 3, present: 0 });
    expect((await metadata.store.recipeRevisions(HELLO)).map((r) => r.revision)).toEqual([rev('c'), rev('b'), rev('a')]);
    expect(await metadata.store.recipeRevisions({ name: 'zlib', version: '1.0' })).toEqual([{ revision: rev('f'), timeMicros: 1650000003000000 }]);
    expect(await metadata.store.recipeRevisions({ name: 'odd', version: '1.0' })).toEqual([]);
    expect(await metadata.store.recipeRevisions({ name: 'broken', version: '1.0' })).toEqual([]);
    expect((await metadata.store.latestBinaries({ ...HELLO, revision: rev('b') }))?.map((p) => p.packageId)).toEqual([PKG_LINUX, PKG_WINDOWS]);
    expect((await metadata.store.packageRevisions({ ...HELLO, revision: rev('b'), packageId: PKG_LINUX })).map((r) => r.revision)).toEqual([rev('2'), rev('1')]);
    expect(await metadata.store.searchRecipes('')).toEqual([HELLO, LIB, { name: 'zlib', version: '1.0' }]);
  });

  it('reports a revision already present with other files and never overwrites it', async () => {
    await writeStore(store, goodStore());
    await runImport();
    const libFolder = join(store, 'lib/2.0/acme/stable', rev('d'), 'export');
    // Same size, other bytes: only the sha1 tells them apart.
    await writeFile(join(libFolder, 'conanfile.py'), 'LIB\n');
    await writeFile(join(store, 'hello/1.0/_/_', rev('b'), 'package', PKG_WINDOWS, rev('3'), 'extra.txt'), 'new file');
    const blobsBefore = await blobCount();

    const { report } = await runImport();
    expect(described(report.problemList)).toEqual([
      `hello/1.0/_/_/${rev('b')}/package/${PKG_WINDOWS}/${rev('3')}: hello/1.0@_/_#${rev('b')}:${PKG_WINDOWS}#${rev('3')}: already present with other files (extra.txt is not in the one present): left as it is`,
      `lib/2.0/acme/stable/${rev('d')}/export: lib/2.0@acme/stable#${rev('d')}: already present with other files (conanfile.py differs): left as it is`,
    ]);
    expect(report.recipeRevisions).toEqual({ imported: 0, present: 3 });
    expect(report.packageRevisions).toEqual({ imported: 0, present: 2 });
    expect(await contents(recipe(LIB, rev('d')))).toEqual({ 'conanfile.py': 'lib\n', 'conanmanifest.txt': 'lib manifest\n' });
    expect(Object.keys((await contents(binary(PKG_WINDOWS, rev('3'))))!)).not.toContain('extra.txt');
    expect(await blobCount()).toBe(blobsBefore);
  });

  it('imports again a revision an earlier import left invisible', async () => {
    await writeStore(store, goodStore());
    // What an import killed before the manifest leaves: a file recorded, no manifest, so not visible.
    const owner = recipe(LIB, rev('d'));
    const key = 'blobs/00/left-over';
    await blobs.put(key, bytesOf('lib\n'));
    await metadata.store.recordFile(owner, 'conanfile.py', { key, size: 4, sha1: sha1('lib\n'), sha256: 'x'.repeat(64) });
    expect(await metadata.store.files(owner)).toBeUndefined();

    const { report } = await runImport();
    expect(report.recipeRevisions).toEqual({ imported: 4, present: 0 });
    expect(await metadata.store.recipeRevision(owner.ref)).toEqual({ revision: rev('d'), timeMicros: 1700000000000000 });
    expect(await contents(owner)).toEqual({ 'conanfile.py': 'lib\n', 'conanmanifest.txt': 'lib manifest\n' });
  });

  it('deletes the blobs of a revision whose copy failed, reports it, goes on, and a later run imports it', async () => {
    await writeStore(store, goodStore());
    // A real blob store failing the second file of lib's only revision (the manifest: stored last).
    const failing = failingPuts(blobs, (n) => n === 1);
    const onlyLib = join(dir, 'only-lib');
    await writeStore(onlyLib, Object.fromEntries(Object.entries(goodStore()).filter(([path]) => path.startsWith('lib/'))));

    const { report } = await runImport({ directory: onlyLib, blobs: failing });
    expect(described(report.problemList)).toEqual([
      `lib/2.0/acme/stable/${rev('d')}/export: lib/2.0@acme/stable#${rev('d')}: cannot store conanmanifest.txt: disk on fire`,
    ]);
    expect(report.recipeRevisions).toEqual({ imported: 0, present: 0 });
    expect(await metadata.store.recipeRevisions(LIB)).toEqual([]);
    // The first file's blob was stored, then deleted: nothing left behind.
    expect(await blobCount()).toBe(0);

    const again = await runImport({ directory: onlyLib });
    expect(again.report.recipeRevisions).toEqual({ imported: 1, present: 0 });
    expect(await contents(recipe(LIB, rev('d')))).toEqual({ 'conanfile.py': 'lib\n', 'conanmanifest.txt': 'lib manifest\n' });
    expect(await blobCount()).toBe(2);
  });

  it('stops when a store is unreachable, keeping what was imported', async () => {
    await writeStore(store, goodStore());
    const down = failingPuts(blobs, (n) => n >= 3, () => new BlobStoreUnavailableError('blob store down'));
    await expect(runImport({ blobs: down })).rejects.toThrow('blob store down');
    // hello#a (3 files) made it; the rest is imported by the next run.
    expect((await metadata.store.recipeRevisions(HELLO)).map((r) => r.revision)).toEqual([rev('a')]);
    expect(await blobCount()).toBe(3);
    const { report } = await runImport();
    expect(report.recipeRevisions).toEqual({ imported: 3, present: 1 });
    expect(await blobCount()).toBe(GOOD_FILES);
  });

  it('keeps one entry of a revision conan_server listed twice, and reads Conan 1.x ISO times', async () => {
    await writeStore(store, {
      // conan_server appends a re-uploaded revision without removing its first entry when it is the oldest.
      'pkg/1.0/_/_/revisions.txt': revisions([rev('a'), 1795399583.2732968], [rev('b'), 1795399591.137382], [rev('a'), 1795399591.8924453]),
      ...revisionFolder(`pkg/1.0/_/_/${rev('a')}/export`, { 'conanmanifest.txt': 'a' }),
      ...revisionFolder(`pkg/1.0/_/_/${rev('b')}/export`, { 'conanmanifest.txt': 'b' }),
      'old/1.0/_/_/revisions.txt': revisions([rev('a'), '2019-04-25T10:17:03.123456+00:00'], [rev('b'), '2019-04-25T12:17:03+02:00']),
      ...revisionFolder(`old/1.0/_/_/${rev('a')}/export`, { 'conanmanifest.txt': 'a' }),
      ...revisionFolder(`old/1.0/_/_/${rev('b')}/export`, { 'conanmanifest.txt': 'b' }),
    });
    const { report } = await runImport();
    expect(report.problemList).toEqual([]);
    expect(await metadata.store.recipeRevisions({ name: 'pkg', version: '1.0' })).toEqual([
      { revision: rev('a'), timeMicros: 1795399591892445 },
      { revision: rev('b'), timeMicros: 1795399591137382 },
    ]);
    const base = Date.UTC(2019, 3, 25, 10, 17, 3) * 1000;
    expect(await metadata.store.recipeRevisions({ name: 'old', version: '1.0' })).toEqual([
      // b (10:17:03Z) is older than a but listed after it: the list order wins, 1 µs after a.
      { revision: rev('b'), timeMicros: base + 123457 },
      { revision: rev('a'), timeMicros: base + 123456 },
    ]);
  });

  it('accepts the conan_server home holding server.conf and data/, and reports progress', async () => {
    await writeStore(store, goodStore());
    await writeFile(join(dir, 'conan_server', 'server.conf'), '[server]\n');
    const { report, progress } = await runImport({ directory: join(dir, 'conan_server') });
    expect(report.recipeRevisions.imported).toBe(4);
    // At most about one a second, plus the final one: this small store takes well under a second.
    expect(progress.length).toBeGreaterThanOrEqual(1);
    expect(progress.length).toBeLessThanOrEqual(2);
    await expect(runImport({ directory: join(dir, 'nowhere') })).rejects.toThrow('is not a directory');
  });
});

describe('parseRevisionList', () => {
  it('keeps the list order, making times strictly increasing', () => {
    expect(parseRevisionList(JSON.stringify(revisions(['a', 2.5], ['b', 2.5], ['c', 1], ['d', 10])))).toEqual([
      { revision: 'a', timeMicros: 2500000 },
      { revision: 'b', timeMicros: 2500001 },
      { revision: 'c', timeMicros: 2500002 },
      { revision: 'd', timeMicros: 10000000 },
    ]);
  });

  it('turns seconds into microseconds as Python does, so times come back as conan_server showed them', () => {
    // Python: datetime.fromtimestamp(t, timezone.utc) -> ...18.310355, where Math.round(t * 1e6) gives ...356.
    expect(secondsToMicros(1795399518.3103554)).toBe(1795399518310355);
    expect(secondsToMicros(1795399591.8924453)).toBe(1795399591892445);
    // Halves round to even, as Python's round().
    expect(secondsToMicros(2.5e-6)).toBe(2);
    expect(secondsToMicros(3.5e-6)).toBe(4);
    expect(secondsToMicros(1600000000.5)).toBe(1600000000500000);
  });

  it('rejects what is not a revision list', () => {
    expect(() => parseRevisionList('{')).toThrow(/^not JSON/);
    expect(() => parseRevisionList('{"revisions": {}}')).toThrow(/^not a revision list: revisions:/);
    expect(() => parseRevisionList('{"revisions": [{"revision": "a", "time": "yesterday"}]}')).toThrow(
      "not a revision list: revisions.0.time: 'yesterday' is not a time",
    );
  });
});

/** The message `JSON.parse` gives for `text` on this Node version. */
function errorOfJsonParse(text: string): string {
  try {
    JSON.parse(text);
  } catch (error) {
    return (error as Error).message;
  }
  throw new Error('parsed');
}

async function* bytesOf(text: string): AsyncIterable<Uint8Array> {
  yield new TextEncoder().encode(text);
}

/**
 * `store` whose `put` number n (from 0) fails when `fails(n)`, after reading
 * part of the body as a failing upload would: the real store underneath
 * sees a body that throws.
 */
function failingPuts(store: BlobStore, fails: (n: number) => boolean, error = () => new Error('disk on fire')): BlobStore {
  let n = 0;
  return {
    put: (key, body) => {
      if (!fails(n++)) return store.put(key, body);
      return store.put(
        key,
        (async function* () {
          for await (const chunk of body) {
            yield chunk;
            throw error();
          }
          throw error();
        })(),
      );
    },
    get: (key, range) => store.get(key, range),
    stat: (key) => store.stat(key),
    delete: (key) => store.delete(key),
    list: (prefix) => store.list(prefix),
  };
}
