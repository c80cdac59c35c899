import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import {
  ID_RULE,
  MANIFEST_FILE,
  checkFilePath,
  formatPackageRevision,
  formatRecipeRevision,
  packageIdSchema,
  recipeRefFromSegments,
  revisionSchema,
  type BlobStore,
  type FileOwner,
  type MetadataStore,
  type RecipeRef,
  type RecipeRevisionRef,
} from '@cimmeria/core';
import {
  EXPORT_FOLDER,
  PACKAGES_FOLDER,
  REVISIONS_FILE,
  readRevisionList,
  recipeFolders,
  revisionFiles,
  subfolders,
  type ListedRevision,
  type RevisionFile,
} from './conan-server-layout.js';
import { copyRevision } from './copy-revision.js';

/** An entry of the conan_server store that was not imported; the rest goes on. */
export interface ImportProblem {
  /** The folder or file concerned, relative to the data folder, `/`-separated. */
  path: string;
  message: string;
}

/** Running totals of an import. */
export interface ImportProgress {
  /** Recipe revisions copied, and those already present with the same files (skipped). */
  recipeRevisions: { imported: number; present: number };
  /** Package revisions copied, and those already present with the same files (skipped). */
  packageRevisions: { imported: number; present: number };
  /** Files copied into the blob store (none for revisions already present). */
  files: number;
  /** Bytes of those files. */
  bytes: number;
  /** Entries skipped because they are broken or conflict with what is there. */
  problems: number;
}

/** What {@link importConanServer} did. */
export interface ImportReport extends ImportProgress {
  /** Each entry skipped, in the order met. */
  problemList: ImportProblem[];
}

/** Options of {@link importConanServer}. */
export interface ImportConanServerOptions {
  /**
   * conan_server's storage folder (`~/.conan_server/data`), or the
   * conan_server home holding `server.conf` and `data/`.
   */
  directory: string;
  metadata: MetadataStore;
  blobs: BlobStore;
  /**
   * Running totals, at most about once a second, and once more at the end
   * with `final` true (the totals of the returned report: a caller printing
   * the report can skip that one).
   */
  onProgress?: (progress: ImportProgress, final: boolean) => void;
  /** Each entry skipped, as it happens. */
  onProblem?: (problem: ImportProblem) => void;
}

const PROGRESS_INTERVAL_MS = 1000;

/**
 * Copies a conan_server 2 storage folder into Cimmeria's stores: every
 * recipe revision and package revision its `revisions.txt` files list, with
 * all their files (metadata files included), published with their original
 * times and in their original order, so `latest` and revision lists answer as
 * conan_server did.
 *
 * - Idempotent: a revision already visible with the same files (paths and
 *   sha1) is counted as present and left alone; one visible with other files
 *   is reported and left alone too (never overwritten). A revision that
 *   exists without being visible (an import cut off before its manifest) is
 *   imported again.
 * - Binaries are imported only under a recipe revision imported or present.
 * - A broken entry (unreadable or invalid `revisions.txt`, a listed revision
 *   whose folder or manifest is missing, a folder `revisions.txt` does not
 *   list, an invalid name, revision, package id or file path, a read error)
 *   is reported through `onProblem` and the report, then skipped.
 *
 * Throws when `directory` is not a folder, and when a store reports itself
 * unreachable (`MetadataUnavailableError`, `BlobStoreUnavailableError`):
 * what was imported so far stays, and running again goes on from there.
 */
export async function importConanServer(options: ImportConanServerOptions): Promise<ImportReport> {
  const root = await dataFolder(options.directory);
  const tally = new Tally(options);

  for await (const folder of recipeFolders(root, (at, error) => tally.problem(at, `cannot read: ${messageOf(error)}`))) {
    const at = folder.segments.join('/');
    let ref: RecipeRef;
    try {
      ref = recipeRefFromSegments(...folder.segments);
    } catch (error) {
      tally.problem(at, messageOf(error));
      continue;
    }
    for (const listed of await listedRevisions(folder.location, at, tally)) {
      const revision = listed.revision;
      if (!revisionSchema.safeParse(revision).success) {
        tally.problem(`${at}/${REVISIONS_FILE}`, `invalid recipe revision '${revision}': ${ID_RULE}`);
        continue;
      }
      const recipeRevision: RecipeRevisionRef = { ...ref, revision };
      const revisionFolder = join(folder.location, revision);
      const skipped = await importRevision(tally, options, { kind: 'recipe', ref: recipeRevision }, {
        location: join(revisionFolder, EXPORT_FOLDER),
        at: `${at}/${revision}/${EXPORT_FOLDER}`,
        listed,
      });
      if (skipped) {
        tally.problem(skipped.at, skipped.message + (await binariesNote(join(revisionFolder, PACKAGES_FOLDER))));
        continue;
      }
      await importBinaries(tally, options, recipeRevision, revisionFolder, `${at}/${revision}`);
    }
    tally.tick();
  }
  return tally.finish();
}

/** Every package revision of a recipe revision already imported or present. */
async function importBinaries(
  tally: Tally,
  options: ImportConanServerOptions,
  recipeRevision: RecipeRevisionRef,
  revisionFolder: string,
  revisionAt: string,
): Promise<void> {
  const packagesFolder = join(revisionFolder, PACKAGES_FOLDER);
  const packagesAt = `${revisionAt}/${PACKAGES_FOLDER}`;
  let packageIds: string[];
  try {
    packageIds = await subfolders(packagesFolder);
  } catch (error) {
    tally.problem(packagesAt, `cannot read: ${messageOf(error)}`);
    return;
  }
  for (const packageId of packageIds) {
    const at = `${packagesAt}/${packageId}`;
    if (!packageIdSchema.safeParse(packageId).success) {
      tally.problem(at, `invalid package id '${packageId}': ${ID_RULE}`);
      continue;
    }
    for (const listed of await listedRevisions(join(packagesFolder, packageId), at, tally)) {
      const packageRevision = listed.revision;
      if (!revisionSchema.safeParse(packageRevision).success) {
        tally.problem(`${at}/${REVISIONS_FILE}`, `invalid package revision '${packageRevision}': ${ID_RULE}`);
        continue;
      }
      const skipped = await importRevision(tally, options, { kind: 'package', ref: { ...recipeRevision, packageId, packageRevision } }, {
        location: join(packagesFolder, packageId, packageRevision),
        at: `${at}/${packageRevision}`,
        listed,
      });
      if (skipped) tally.problem(skipped.at, skipped.message);
    }
  }
}

/**
 * The revisions listed in the `revisions.txt` of `location`, after reporting
 * the revision folders it does not list (conan_server does not show them).
 * None, after reporting, when the index is missing or unreadable.
 */
async function listedRevisions(location: string, at: string, tally: Tally): Promise<ListedRevision[]> {
  let folders: string[];
  try {
    folders = await subfolders(location);
  } catch (error) {
    tally.problem(at, `cannot read: ${messageOf(error)}`);
    return [];
  }
  let listed: ListedRevision[];
  try {
    listed = await readRevisionList(location);
  } catch (error) {
    const missing = (error as NodeJS.ErrnoException).code === 'ENOENT';
    // An empty folder without an index has nothing to import: not worth a problem.
    if (missing && folders.length === 0) return [];
    tally.problem(`${at}/${REVISIONS_FILE}`, `${missing ? 'missing' : messageOf(error)}: nothing in ${at} is imported`);
    return [];
  }
  const names = new Set(listed.map((r) => r.revision));
  for (const folder of folders) {
    if (!names.has(folder)) tally.problem(`${at}/${folder}`, `not listed in ${REVISIONS_FILE} (conan_server does not show it): skipped`);
  }
  return listed;
}

/** Where one revision's files are in the conan_server store. */
interface RevisionSource {
  location: string;
  /** `location` relative to the data folder, for problems. */
  at: string;
  listed: ListedRevision;
}

/** Why a revision was not imported: the file or folder at fault, and a message. */
interface Skipped {
  at: string;
  message: string;
}

/**
 * Imports one listed revision. Resolves with `undefined` when the revision
 * is now in the target (imported, or present already), otherwise with why
 * not, for the caller to report.
 */
async function importRevision(
  tally: Tally,
  options: ImportConanServerOptions,
  owner: FileOwner,
  source: RevisionSource,
): Promise<Skipped | undefined> {
  const what = owner.kind === 'recipe' ? formatRecipeRevision(owner.ref) : formatPackageRevision(owner.ref);
  const skip = (at: string, message: string): Skipped => ({ at, message: `${what}: ${message}` });
  let files: RevisionFile[];
  try {
    files = await revisionFiles(source.location);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return skip(source.at, `listed in ${REVISIONS_FILE} but its folder is missing`);
    return skip(source.at, `cannot read: ${messageOf(error)}`);
  }
  if (!files.some((f) => f.path === MANIFEST_FILE)) {
    return skip(source.at, `no ${MANIFEST_FILE} (an upload that never finished; conan_server does not serve it)`);
  }
  for (const file of files) {
    try {
      checkFilePath(file.path);
    } catch (error) {
      return skip(`${source.at}/${file.path}`, messageOf(error));
    }
  }

  const outcome = await copyRevision({
    metadata: options.metadata,
    blobs: options.blobs,
    owner,
    files,
    publishedAtMicros: source.listed.timeMicros,
    onFileStored: () => tally.tick(),
  });
  const counter = owner.kind === 'recipe' ? tally.totals.recipeRevisions : tally.totals.packageRevisions;
  switch (outcome.kind) {
    case 'imported':
      counter.imported += 1;
      tally.totals.files += outcome.files;
      tally.totals.bytes += outcome.bytes;
      tally.tick();
      return undefined;
    case 'present':
      counter.present += 1;
      tally.tick();
      return undefined;
    case 'conflict':
    case 'failed':
      return skip(source.at, outcome.message);
  }
}

/** What else a skipped recipe revision takes with it, for its problem's message. */
async function binariesNote(packagesFolder: string): Promise<string> {
  const count = (await subfolders(packagesFolder).catch(() => [])).length;
  return count === 0 ? '' : ` (its ${count} binary package(s) are skipped with it)`;
}

/** The data folder: `directory` itself, or its `data/` when it is a conan_server home. */
async function dataFolder(directory: string): Promise<string> {
  const info = await stat(directory).catch(() => undefined);
  if (!info?.isDirectory()) throw new Error(`${directory} is not a directory`);
  const isHome =
    (await stat(join(directory, 'server.conf')).then((s) => s.isFile(), () => false)) &&
    (await stat(join(directory, 'data')).then((s) => s.isDirectory(), () => false));
  return isHome ? join(directory, 'data') : directory;
}

/** The report being built, and progress calls no more often than {@link PROGRESS_INTERVAL_MS}. */
class Tally {
  readonly totals: ImportProgress = {
    recipeRevisions: { imported: 0, present: 0 },
    packageRevisions: { imported: 0, present: 0 },
    files: 0,
    bytes: 0,
    problems: 0,
  };
  private readonly problems: ImportProblem[] = [];
  private lastProgress = Date.now();

  constructor(private readonly options: Pick<ImportConanServerOptions, 'onProgress' | 'onProblem'>) {}

  problem(path: string, message: string): void {
    const entry = { path, message };
    this.problems.push(entry);
    this.totals.problems += 1;
    this.options.onProblem?.(entry);
  }

  /** Reports progress if the last report is old enough. */
  tick(): void {
    if (Date.now() - this.lastProgress >= PROGRESS_INTERVAL_MS) this.emit(false);
  }

  /** The final report, after a last progress call. */
  finish(): ImportReport {
    this.emit(true);
    return { ...this.snapshot(), problemList: [...this.problems] };
  }

  private emit(final: boolean): void {
    this.lastProgress = Date.now();
    this.options.onProgress?.(this.snapshot(), final);
  }

  /** A copy, so callers keeping it do not see it change. */
  private snapshot(): ImportProgress {
    const { recipeRevisions, packageRevisions, ...rest } = this.totals;
    return { recipeRevisions: { ...recipeRevisions }, packageRevisions: { ...packageRevisions }, ...rest };
  }
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
