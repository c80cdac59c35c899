import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';

// Reads the folders conan_server 2 writes (conans/server/store/server_store.py):
//
//   DATA/<name>/<version>/<user|_>/<channel|_>/revisions.txt
//   DATA/.../<rrev>/export/<recipe files>
//   DATA/.../<rrev>/package/<package id>/revisions.txt
//   DATA/.../<rrev>/package/<package id>/<prev>/<package files>
//
// Only reading here; deciding what to import is the importer's job.

/** conan_server's index of the revisions of a recipe or of a binary package. */
export const REVISIONS_FILE = 'revisions.txt';
/** Folder of a recipe revision holding its files. */
export const EXPORT_FOLDER = 'export';
/** Folder of a recipe revision holding one folder per package id. */
export const PACKAGES_FOLDER = 'package';

/** A revision listed in a `revisions.txt`. */
export interface ListedRevision {
  revision: string;
  /** Publication time in microseconds since the epoch, strictly after the previous entry's. */
  timeMicros: number;
}

// conan_server 2 writes `time.time()` (float seconds); Conan 1.x servers wrote
// ISO 8601 strings, which conan_server 2 still reads, so both are accepted.
const revisionListSchema = z.object({
  revisions: z.array(
    z.object({
      // Checked one by one by the importer, so one bad entry does not hide the others.
      revision: z.string(),
      time: z.union([z.number().finite(), z.string()]),
    }),
  ),
});

const ISO_8601 = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:[.,](\d{1,9}))?(Z|[+-]\d{2}:?\d{2})?$/i;

/**
 * Float seconds to whole microseconds the way Python's `datetime` does, so
 * a time comes back exactly as conan_server showed it: the fraction alone is
 * scaled and rounded half to even. `Math.round(seconds * 1e6)` is 1 µs off
 * for about one float in eight (1795399518.3103554 gives ...356, conan_server
 * shows ...355), since the product is not exact.
 */
export function secondsToMicros(seconds: number): number {
  const whole = Math.floor(seconds);
  // Subtracting the whole part is exact; the product is the one Python rounds too.
  const fraction = (seconds - whole) * 1e6;
  let micros = Math.round(fraction);
  if (micros - fraction === 0.5 && micros % 2 === 1) micros -= 1;
  return whole * 1e6 + micros;
}

/** Microseconds since the epoch of a `revisions.txt` time, or `undefined` if it is not one. */
export function timeToMicros(time: number | string): number | undefined {
  if (typeof time === 'number') return secondsToMicros(time);
  const match = ISO_8601.exec(time.trim());
  if (!match) return undefined;
  const [, base, fraction = '', zone = 'Z'] = match;
  // Python writes "+00:00"; without a zone the time is taken as UTC, as Conan 1.x meant it.
  const offset = zone.toUpperCase() === 'Z' ? 'Z' : `${zone.slice(0, 3)}:${zone.slice(-2)}`;
  const millis = Date.parse(`${base}${offset}`);
  if (Number.isNaN(millis)) return undefined;
  return millis * 1000 + Math.round(Number(`0.${fraction || '0'}`) * 1e6);
}

/**
 * Parses the text of a `revisions.txt` into its revisions, oldest first.
 *
 * The list order is conan_server's order of publication (its last entry is
 * "latest"), so it is kept even where times disagree: each time is made at
 * least 1 µs after the previous one. A revision listed twice (conan_server
 * appends a re-uploaded revision without removing its entry when that entry
 * is the first of the list) keeps only its last entry, the one that made it
 * latest. Throws with a readable message when the text is not a revision list.
 */
export function parseRevisionList(text: string): ListedRevision[] {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new Error(`not JSON (${(error as Error).message})`);
  }
  const parsed = revisionListSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new Error(`not a revision list: ${issue ? `${issue.path.join('.') || 'document'}: ${issue.message}` : 'invalid'}`);
  }
  const entries = parsed.data.revisions.map(({ revision, time }, index) => {
    const micros = timeToMicros(time);
    if (micros === undefined) throw new Error(`not a revision list: revisions.${index}.time: '${time}' is not a time`);
    return { revision, micros };
  });
  const lastIndex = new Map(entries.map((entry, index) => [entry.revision, index]));
  let previous = Number.NEGATIVE_INFINITY;
  const result: ListedRevision[] = [];
  entries.forEach((entry, index) => {
    if (lastIndex.get(entry.revision) !== index) return;
    previous = Math.max(entry.micros, previous + 1);
    result.push({ revision: entry.revision, timeMicros: previous });
  });
  return result;
}

/** Reads and parses the `revisions.txt` of `folder` (see {@link parseRevisionList}). */
export async function readRevisionList(folder: string): Promise<ListedRevision[]> {
  return parseRevisionList(await readFile(join(folder, REVISIONS_FILE), 'utf8'));
}

/** Names of the sub-folders of `folder`, sorted; none when it does not exist. */
export async function subfolders(folder: string): Promise<string[]> {
  let entries;
  try {
    entries = await readdir(folder, { withFileTypes: true });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
  return entries
    .filter((e) => e.isDirectory())
    .map((e) => e.name)
    .sort();
}

/** A file of a revision folder. */
export interface RevisionFile {
  /** Path inside the revision, `/`-separated on every OS (`metadata/logs/build.log`). */
  path: string;
  /** Where it is on disk. */
  location: string;
}

/**
 * Every file below a revision folder, at any depth, sorted by path: what
 * conan_server lists for the revision (it walks the folder the same way,
 * counting links to files as files). Throws `ENOENT` if the folder is missing.
 */
export async function revisionFiles(folder: string): Promise<RevisionFile[]> {
  const files: RevisionFile[] = [];
  const walk = async (dir: string, prefix: string): Promise<void> => {
    for (const entry of await readdir(dir, { withFileTypes: true })) {
      const location = join(dir, entry.name);
      const path = prefix + entry.name;
      if (entry.isDirectory()) await walk(location, `${path}/`);
      else if (entry.isFile() || (entry.isSymbolicLink() && (await isFile(location)))) files.push({ path, location });
    }
  };
  await walk(folder, '');
  return files.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

async function isFile(location: string): Promise<boolean> {
  return stat(location).then(
    (s) => s.isFile(),
    () => false,
  );
}

/** A `<name>/<version>/<user>/<channel>` folder of the store. */
export interface RecipeFolder {
  /** Where it is on disk. */
  location: string;
  /** The four folder names, `_` standing for no user and channel. */
  segments: [name: string, version: string, user: string, channel: string];
}

/**
 * Every folder four levels below the store root, in sorted order. A folder
 * that cannot be read is passed to `onError` (with its path relative to
 * `root`) and the walk goes on with the others.
 */
export async function* recipeFolders(root: string, onError: (at: string, error: unknown) => void): AsyncIterable<RecipeFolder> {
  const below = async (segments: string[]): Promise<string[]> => {
    try {
      return await subfolders(join(root, ...segments));
    } catch (error) {
      onError(segments.join('/') || '.', error);
      return [];
    }
  };
  for (const name of await below([])) {
    for (const version of await below([name])) {
      for (const user of await below([name, version])) {
        for (const channel of await below([name, version, user])) {
          yield { location: join(root, name, version, user, channel), segments: [name, version, user, channel] };
        }
      }
    }
  }
}
