import { compileFnmatch, literalPrefix } from './fnmatch.js';
import type { RecipeRef } from './references.js';

/**
 * The reference as one text, and where the prefixes a search pattern may
 * match end, as conan_server tries them: `name`, `name/`, `name/version`,
 * `name/version@`, `name/version@user`, `name/version@user/`,
 * `name/version@user/channel`.
 */
function searchablePrefixes(ref: RecipeRef): { text: string; lengths: number[] } {
  const name = ref.name.length;
  const version = name + 1 + ref.version.length;
  const base = [name, name + 1, version];
  if (ref.user === undefined) return { text: `${ref.name}/${ref.version}`, lengths: base };
  const user = version + 1 + ref.user.length;
  return {
    text: `${ref.name}/${ref.version}@${ref.user}/${ref.channel}`,
    lengths: [...base, version + 1, user, user + 1, user + 1 + (ref.channel ?? '').length],
  };
}

/** Builds a predicate telling whether a recipe matches a `conan search` / `conan list` pattern. */
export function recipeMatcher(pattern: string, ignoreCase: boolean): (ref: RecipeRef) => boolean {
  const compiled = compileFnmatch(pattern, { ignoreCase });
  return (ref) => {
    const { text, lengths } = searchablePrefixes(ref);
    return compiled.matchesAnyPrefix(text, lengths);
  };
}

/**
 * What every recipe name a pattern matches starts with, ASCII letters
 * regardless of case, for the store to narrow a search by index: the
 * pattern's literal text before its first wildcard (`*`, `?`, `[`), up to
 * the `/` ending the name. Cut before the first non-ASCII character:
 * ignoring case, such a character may match an ASCII letter of a name
 * (`ſ` matches `s`, the Kelvin sign `k`), which no lowercasing of the
 * prefix would find. `''` when the pattern starts with a wildcard.
 */
export function searchNamePrefix(pattern: string): string {
  const name = literalPrefix(pattern).split('/')[0] ?? '';
  const nonAscii = name.search(/[^\x00-\x7f]/);
  return nonAscii === -1 ? name : name.slice(0, nonAscii);
}
