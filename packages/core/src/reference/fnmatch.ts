/**
 * Compiles an fnmatch-style pattern (`*`, `?`, `[seq]`, `[!seq]`), as Python's
 * fnmatch does for conan_server, into an anchored RegExp.
 */
export function fnmatchToRegExp(pattern: string, ignoreCase = false): RegExp {
  let source = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === '*') {
      source += '.*';
    } else if (c === '?') {
      source += '.';
    } else if (c === '[') {
      const close = pattern.indexOf(']', i + 2);
      if (close === -1) {
        source += '\\[';
        continue;
      }
      let body = pattern.slice(i + 1, close);
      const negate = body.startsWith('!');
      if (negate) body = body.slice(1);
      source += `[${negate ? '^' : ''}${body.replace(/[\\^\]]/g, '\\$&')}]`;
      i = close;
    } else {
      source += c.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
    }
  }
  return new RegExp(`^${source}$`, ignoreCase ? 'is' : 's');
}

/** The literal text a pattern starts with, before its first wildcard: a cheap pre-filter for SQL. */
export function literalPrefix(pattern: string): string {
  const wildcard = pattern.search(/[*?[]/);
  return wildcard === -1 ? pattern : pattern.slice(0, wildcard);
}
