import { createReadStream } from 'node:fs';
import { access, stat } from 'node:fs/promises';
import { join } from 'node:path';
import {
  MANIFEST_FILE,
  checkFilePath,
  checkPackageId,
  checkRevision,
  formatPackageRevision,
  formatRecipeRevision,
  hashingStream,
  newBlobKey,
  recipeRefFromSegments,
  type BlobStore,
  type FileOwner,
  type MetadataStore,
  type RecipeRef,
} from '@cimmeria/core';
import { REVISIONS_FILE, filesBelow, readRevisionList, recipeFolders, subfolders, type ListedRevision } from './storage-layout.js';

/** Something of the store that could not be imported; the rest goes on. */
export interface ImportProblem {
  /** The folder or file concerned. */
  path: string;
  message: string;
}

/** Running totals of an import. */
export interface ImportProgress {
  recipeRevisions: { imported: number; present: number };
  packageRevisions: { imported: number; present: number };
  /** Files copied (not counting revisions already present). */
  files: number;
  bytes: number;
  problems: number;
}

/** What {@link importConanServer} did. */
export interface ImportReport extends ImportProgress {
  problemList: ImportProblem[];
}

/** Options of {@link importConanServer}. */
export interface ImportConanServerOptions {
  /** conan_server's storage folder (`~/.conan_server/data`), or the folder holding `server.conf` and `data/`. */
  directory: string;
  metadata: MetadataStore;
  blobs: BlobStore;
  /** Running totals, at most about once a second, and once at the end. */
  onProgress?: (progress: ImportProgress) => void;
  /** Each entry that is skipped, as it happens. */
  onProblem?: (problem: ImportProblem) => void;
}

const NO_LIMIT = Number.MAX_SAFE_INTEGER;

/**
 * Copies a conan_server storage folder into Cimmeria's stores: every recipe
 * and package revision listed in a `revisions.txt`, with all its files,
 * published with its original time (so `latest` and the order of
 * `revisions` are as they were).
 *
 * - Idempotent: a revision already visible with the same files (paths and
 *   sha1) is left alone; one visible with different files is reported and
 *   left alone too (never overwritten). A revision that exists without its
 *   manifest (an interrupted import) is imported again.
 * - A broken entry (unreadable index, listed revision without its folder or
 *   manifest, folder not listed in the index, invalid name, unreadable
 *   file) is reported and skipped; the rest is imported.
 */
export async function importConanServer(options: ImportConanServerOptions): Promise<ImportReport> {
  const root = await storageRoot(options.directory);
  const report: ImportReport = {
    recipeRevisions: { imported: 0, present: 0 },
    packageRevisions: { imported: 0, present: 0 },
    files: 0,
    bytes: 0,
    problems: 0,
    problemList: [],
  };
  let lastProgress = Date.now();
  const progress = (force = false) => {
    if (!options.onProgress || (!force && Date.now() - lastProgress < 1000)) return;
    lastProgress = Date.now();
    const { problemList: _, ...totals } = report;
    options.onProgress(structuredClone(totals));
  };
  const problem = (path: string, error: unknown) => {
    const entry = { path, message: error instanceof Error ? error.message : String(error) };
    report.problems += 1;
    report.problemList.push(entry);
    options.onProblem?.(entry);
  };

  /** Imports one revision's folder; returns whether its binaries may be imported under it. */
  const importRevision = async (owner: FileOwner, dir: string, listed: ListedRevision): Promise<boolean> => {
    const what = owner.kind === 'recipe' ? formatRecipeRevision(owner.ref) : formatPackageRevision(owner.ref);
    const counter = owner.kind === 'recipe' ? report.recipeRevisions : report.packageRevisions;
    let paths: string[];
    try {
      paths = await filesBelow(dir);
    } catch (error) {
      problem(dir, (error as NodeJS.ErrnoException).code === 'ENOENT' ? `listed in ${REVISIONS_FILE} but its folder is missing` : error);
      return false;
    }
    if (!paths.includes(MANIFEST_FILE)) {
      problem(dir, `${what} has no ${MANIFEST_FILE}: skipped (conan_server never published it whole)`);
      return false;
    }
    for (const path of paths) {
      try {
        checkFilePath(path);
      } catch (error) {
        problem(join(dir, path), error);
        return false;
      }
    }
    const existing = await options.metadata.files(owner);
    if (existing) {
      const digests = await Promise.all(paths.map(async (path) => [path, await sha1Of(join(dir, path))] as const));
      const same =
        existing.length === paths.length && digests.every(([path, sha1]) => existing.some((f) => f.path === path && f.sha1 === sha1));
      if (same) {
        counter.present += 1;
        return true;
      }
      problem(dir, `${what} already exists with other files: left as it is`);
      return false;
    }
    // The manifest last: storing it publishes the revision, with its original time.
    const ordered = [...paths.filter((p) => p !== MANIFEST_FILE), MANIFEST_FILE];
    for (const path of ordered) {
      const file = join(dir, path);
      const key = newBlobKey();
      try {
        const hashing = hashingStream(createReadStream(file), NO_LIMIT);
        await options.blobs.put(key, hashing.stream);
        const digest = hashing.digest();
        await options.metadata.recordFile(owner, path, { key, ...digest }, path === MANIFEST_FILE ? { publishedAtMicros: listed.timeMicros } : {});
        report.files += 1;
        report.bytes += digest.size;
        progress();
      } catch (error) {
        await options.blobs.delete(key).catch(() => undefined);
        problem(file, error);
        return false;
      }
    }
    counter.imported += 1;
    return true;
  };

  for await (const folder of recipeFolders(root)) {
    let ref: RecipeRef;
    try {
      ref = recipeRefFromSegments(...folder.segments);
    } catch (error) {
      problem(folder.dir, error);
      continue;
    }
    const listed = await listedRevisions(folder.dir, problem);
    if (!listed) continue;
    for (const rrev of listed) {
      let revision: string;
      try {
        revision = checkRevision(rrev.revision);
      } catch (error) {
        problem(join(folder.dir, REVISIONS_FILE), error);
        continue;
      }
      const recipeRef = { ...ref, revision };
      const revisionDir = join(folder.dir, revision);
      if (!(await importRevision({ kind: 'recipe', ref: recipeRef }, join(revisionDir, 'export'), rrev))) continue;

      const packagesDir = join(revisionDir, 'package');
      for (const packageId of await subfolders(packagesDir)) {
        try {
          checkPackageId(packageId);
        } catch (error) {
          problem(join(packagesDir, packageId), error);
          continue;
        }
        const packageRevisions = await listedRevisions(join(packagesDir, packageId), problem);
        for (const prev of packageRevisions ?? []) {
          try {
            checkRevision(prev.revision);
          } catch (error) {
            problem(join(packagesDir, packageId, REVISIONS_FILE), error);
            continue;
          }
          const owner: FileOwner = { kind: 'package', ref: { ...recipeRef, packageId, packageRevision: prev.revision } };
          await importRevision(owner, join(packagesDir, packageId, prev.revision), prev);
        }
      }
    }
    progress();
  }
  progress(true);
  return report;
}

/**
 * The revisions listed in a folder's `revisions.txt`, after reporting its
 * revision folders that the index does not list. `undefined` when the index
 * cannot be read.
 */
async function listedRevisions(
  dir: string,
  problem: (path: string, error: unknown) => void,
): Promise<ListedRevision[] | undefined> {
  let listed: ListedRevision[];
  try {
    listed = await readRevisionList(join(dir, REVISIONS_FILE));
  } catch (error) {
    problem(join(dir, REVISIONS_FILE), (error as NodeJS.ErrnoException).code === 'ENOENT' ? `missing: nothing under ${dir} is imported` : error);
    return undefined;
  }
  const names = new Set(listed.map((r) => r.revision));
  for (const folder of await subfolders(dir)) {
    if (!names.has(folder)) problem(join(dir, folder), `not listed in ${REVISIONS_FILE} (conan_server does not show it): skipped`);
  }
  return listed;
}

/** The store folder: DIR itself, or DIR/data when DIR is a conan_server home (`server.conf` and `data/`). */
async function storageRoot(directory: string): Promise<string> {
  const info = await stat(directory).catch(() => undefined);
  if (!info?.isDirectory()) throw new Error(`${directory} is not a directory`);
  const home = await access(join(directory, 'server.conf')).then(() => true, () => false);
  return home ? join(directory, 'data') : directory;
}

async function sha1Of(file: string): Promise<string> {
  const hashing = hashingStream(createReadStream(file), NO_LIMIT);
  for await (const _ of hashing.stream) {
    // consumed for the digest
  }
  return hashing.digest().sha1;
}
