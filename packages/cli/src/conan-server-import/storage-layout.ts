import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';

/** Name of conan_server's revision index, next to the revision folders it lists. */
export const REVISIONS_FILE = 'revisions.txt';

const revisionListSchema = z.object({
  revisions: z.array(
    z.object({
      revision: z.string(),
      // conan_server writes time.time() (float seconds); accept ISO dates from older servers too.
      time: z.union([z.number().finite(), z.string().refine((s) => !Number.isNaN(Date.parse(s)), 'not a date')]),
    }),
  ),
});

/** A revision as listed in a `revisions.txt`, oldest first, with its time in microseconds. */
export interface ListedRevision {
  revision: string;
  timeMicros: number;
}

/**
 * Reads a `revisions.txt`. Times become microseconds, made strictly
 * increasing in list order (the list order is conan_server's order of
 * publication; equal float times would otherwise tie).
 */
export async function readRevisionList(file: string): Promise<ListedRevision[]> {
  const parsed = revisionListSchema.safeParse(JSON.parse(await readFile(file, 'utf8')));
  if (!parsed.success) throw new Error(`not a revision list: ${parsed.error.issues[0]?.message ?? 'invalid'}`);
  let previous = -Infinity;
  return parsed.data.revisions.map(({ revision, time }) => {
    const micros = typeof time === 'number' ? secondsToMicros(time) : Date.parse(time) * 1000;
    previous = Math.max(micros, previous + 1);
    return { revision, timeMicros: previous };
  });
}

/**
 * Float seconds -> integer microseconds, as Python's datetime does:
 * scaling the whole number by 1e6 would round 1795399518.3103554 up to
 * ...310356; scaling only the fraction keeps ...310355, what conan_server shows.
 */
export function secondsToMicros(seconds: number): number {
  const whole = Math.floor(seconds);
  return whole * 1e6 + Math.round((seconds - whole) * 1e6);
}

/** Sub-folders of a folder (empty when it does not exist). */
export async function subfolders(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true }).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return [];
    throw error;
  });
  return entries.filter((e) => e.isDirectory()).map((e) => e.name).sort();
}

/** Files below a folder, as `/`-separated relative paths, sorted. */
export async function filesBelow(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true });
  return entries
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name).slice(dir.length + 1).split(/[\\/]/).join('/'))
    .sort();
}

/** A recipe folder of the store: `name/version/user/channel`, with `_` for no user and channel. */
export interface RecipeFolder {
  dir: string;
  segments: [name: string, version: string, user: string, channel: string];
}

/** Every `name/version/user/channel` folder of a conan_server store, sorted. */
export async function* recipeFolders(root: string): AsyncIterable<RecipeFolder> {
  for (const name of await subfolders(root)) {
    for (const version of await subfolders(join(root, name))) {
      for (const user of await subfolders(join(root, name, version))) {
        for (const channel of await subfolders(join(root, name, version, user))) {
          yield { dir: join(root, name, version, user, channel), segments: [name, version, user, channel] };
        }
      }
    }
  }
}
