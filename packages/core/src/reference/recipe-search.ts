import { fnmatchToRegExp } from './fnmatch.js';
import type { RecipeRef } from './references.js';

/**
 * The prefixes a search pattern may match, as conan_server tries them:
 * `name`, `name/`, `name/version`, `name/version@`, `name/version@user`,
 * `name/version@user/`, `name/version@user/channel`.
 */
function searchablePrefixes(ref: RecipeRef): string[] {
  const base = [ref.name, `${ref.name}/`, `${ref.name}/${ref.version}`];
  if (ref.user === undefined) return base;
  const withAt = `${ref.name}/${ref.version}@`;
  return [...base, withAt, `${withAt}${ref.user}`, `${withAt}${ref.user}/`, `${withAt}${ref.user}/${ref.channel}`];
}

/** Builds a predicate telling whether a recipe matches a `conan search` / `conan list` pattern. */
export function recipeMatcher(pattern: string, ignoreCase: boolean): (ref: RecipeRef) => boolean {
  const regexp = fnmatchToRegExp(pattern, ignoreCase);
  return (ref) => searchablePrefixes(ref).some((prefix) => regexp.test(prefix));
}
