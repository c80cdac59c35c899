/**
 * What a binary's `conaninfo.txt` says about it: `[settings]` and
 * `[options]` as `key=value` lines, `[requires]` as one reference a line.
 * Hostile text is fine: one pass over the lines, no regular expression,
 * bounded by the text's size (itself bounded at upload).
 */
export interface ConanInfo {
  settings: Record<string, string>;
  options: Record<string, string>;
  requires: string[];
}

/** Parses the sections the web API shows; others are ignored. */
export function parseConaninfo(text: string): ConanInfo {
  const info: ConanInfo = { settings: Object.create(null), options: Object.create(null), requires: [] };
  let section = '';
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    if (line.startsWith('[') && line.endsWith(']')) {
      section = line.slice(1, -1).trim();
      continue;
    }
    if (section === 'requires') {
      info.requires.push(line);
      continue;
    }
    const target = section === 'settings' ? info.settings : section === 'options' ? info.options : undefined;
    if (!target) continue;
    const equals = line.indexOf('=');
    if (equals <= 0) continue;
    target[line.slice(0, equals).trim()] = line.slice(equals + 1).trim();
  }
  return { settings: { ...info.settings }, options: { ...info.options }, requires: info.requires };
}

/** A `[requires]` line split into the recipe name and version it names (`zlib/1.3.Z`, `zlib/1.3.1@u/c#rrev:pid`). */
export function requiredRecipe(line: string): { name: string; version: string } | undefined {
  const slash = line.indexOf('/');
  if (slash <= 0) return undefined;
  let end = line.length;
  for (const stop of ['@', '#', ':']) {
    const at = line.indexOf(stop, slash + 1);
    if (at !== -1 && at < end) end = at;
  }
  const name = line.slice(0, slash);
  const version = line.slice(slash + 1, end);
  if (name.length > 101 || version.length > 101 || version === '') return undefined;
  return { name, version };
}

/**
 * Whether a required version (as conaninfo.txt writes it, where `X`, `Y`
 * and `Z` stand for any component in Conan's package id modes, e.g.
 * `1.3.Z`) falls under the version asked for: each component asked for
 * must match (`1.3` covers `1.3.1`, `1.3.Z` and `1.3.2`).
 */
export function requiredVersionMatches(required: string, asked: string): boolean {
  if (required === asked) return true;
  const have = required.split('.');
  const want = asked.split('.');
  if (want.length > have.length) return false;
  return want.every((part, i) => have[i] === part || (have[i] !== undefined && /^[XYZ]$/.test(have[i]!) && part !== ''));
}

/** Most `[requires]` lines indexed per binary: a hostile conaninfo.txt cannot grow the table without bound. */
export const MAX_INDEXED_REQUIRES = 1000;

/** The `package_requires` rows of a package revision's conaninfo.txt text. */
export function requireRows(packageRevisionId: string, conaninfo: string) {
  const rows: Array<{ package_revision_id: string; position: number; name: string; version: string; reference: string }> = [];
  for (const line of parseConaninfo(conaninfo).requires) {
    const required = requiredRecipe(line);
    if (!required || line.length > 1024) continue;
    rows.push({ package_revision_id: packageRevisionId, position: rows.length, ...required, reference: line });
    if (rows.length === MAX_INDEXED_REQUIRES) break;
  }
  return rows;
}
