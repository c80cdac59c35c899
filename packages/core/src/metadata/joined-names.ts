import { startsWithIgnoringAsciiCase } from './name-prefix-range.js';

/**
 * The distinct names of `joined` (names separated by `separator`) that
 * start with `loweredPrefix` ASCII case-insensitively, in code-unit order.
 * A database that read them in that order (an index scan) lists a name's
 * recipes side by side: one pass drops the repeats without building a
 * string for each, and checks the order; anything else is sorted here.
 */
export function distinctJoinedNames(joined: string, separator: string, loweredPrefix: string): string[] {
  const names: string[] = [];
  let last = '';
  let sorted = true;
  for (let start = 0; start <= joined.length; ) {
    let end = joined.indexOf(separator, start);
    if (end < 0) end = joined.length;
    // The same as the last name kept: compared in place.
    const repeat = names.length > 0 && end - start === last.length && joined.startsWith(last, start);
    if (!repeat) {
      const name = joined.slice(start, end);
      if (startsWithIgnoringAsciiCase(name, loweredPrefix)) {
        if (names.length > 0 && name < last) sorted = false;
        names.push((last = name));
      }
    }
    start = end + separator.length;
  }
  if (sorted) return names;
  // The default sort compares UTF-16 code units; repeats are side by side once sorted.
  names.sort();
  return names.filter((name, i) => i === 0 || name !== names[i - 1]);
}
