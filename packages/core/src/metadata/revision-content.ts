import { MANIFEST_FILE, type FileOwner } from './metadata-store.js';

/**
 * The files that make a revision id mean one content (rule 6 of DESIGN.md):
 * a manifest lists the md5 of each file of the revision, and the server
 * holds a recipe revision to its `conanfile.py` and a package revision to
 * its `conaninfo.txt`.
 */
export const RECIPE_FILE = 'conanfile.py';
export const PACKAGE_INFO_FILE = 'conaninfo.txt';

/** The file a revision's manifest is checked against: `conanfile.py` (recipe) or `conaninfo.txt` (package). */
export function identityFile(kind: FileOwner['kind']): string {
  return kind === 'recipe' ? RECIPE_FILE : PACKAGE_INFO_FILE;
}

/** Files whose md5 is kept with their bytes' record (the manifest and what it is checked against). */
export function keepsMd5(path: string): boolean {
  return path === RECIPE_FILE || path === PACKAGE_INFO_FILE || path === MANIFEST_FILE;
}

/** Files the server itself reads: their text is kept (and their size bounded) at upload. */
export function keepsText(path: string): boolean {
  return path === PACKAGE_INFO_FILE || path === MANIFEST_FILE;
}

/** `metadata/*` files (`conan upload --metadata`): not part of a revision's content, writable at any time. */
export function isMetadataPath(path: string): boolean {
  return path.startsWith('metadata/');
}

/**
 * The md5 a `conanmanifest.txt` lists for `path`, lower-case, or `undefined`
 * if it lists none. The format is Conan's: a timestamp line, then
 * `path: md5` lines (the last `: ` separates, as Conan's own parser does;
 * a later line for the same path wins). One pass, no regular expression.
 */
export function listedMd5(manifest: string, path: string): string | undefined {
  let found: string | undefined;
  let start = manifest.indexOf('\n') + 1;
  while (start > 0 && start < manifest.length) {
    const newline = manifest.indexOf('\n', start);
    const end = newline === -1 ? manifest.length : newline;
    const line = manifest.slice(start, end);
    const separator = line.lastIndexOf(': ');
    if (separator !== -1 && line.slice(0, separator) === path) {
      found = line.slice(separator + 2).trim().toLowerCase();
    }
    start = end + 1;
  }
  return found;
}
