import { describe, expect, it } from 'vitest';
import { compileFnmatch } from '../src/reference/fnmatch.js';

/**
 * Expected results produced with CPython 3.11's fnmatch (what conan_server
 * uses), then hard-coded:
 *   fnmatch.fnmatchcase(text, pattern)                                  -> caseSensitive
 *   re.compile(fnmatch.translate(pattern), re.IGNORECASE).match(text)   -> ignoreCase
 */
const PYTHON_FNMATCH: Array<[pattern: string, text: string, caseSensitive: boolean, ignoreCase: boolean]> = [
  ["*", "anything", true, true],
  ["*", "", true, true],
  ["", "", true, true],
  ["", "a", false, false],
  ["?", "", false, false],
  ["?", "a", true, true],
  ["?", "ab", false, false],
  ["hel?o", "hello", true, true],
  ["hel?o", "helo", false, false],
  ["[hz]ello", "zello", true, true],
  ["[!hz]ello", "zello", false, false],
  ["[!hz]ello", "jello", true, true],
  ["a.b", "axb", false, false],
  ["a.b", "a.b", true, true],
  ["zlib-ng/2.*", "zlib-ng/2.1.6", true, true],
  ["(x)", "(x)", true, true],
  ["[unclosed", "[unclosed", true, true],
  ["[unclosed", "u", false, false],
  ["[", "[", true, true],
  ["[!", "[!", true, true],
  ["[]", "[]", true, true],
  ["[]]", "]", true, true],
  ["[]]", "a", false, false],
  ["[!]]", "]", false, false],
  ["[!]]", "a", true, true],
  ["[]a]", "a", true, true],
  ["[]a]", "]", true, true],
  ["[!]a]", "b", true, true],
  ["[z-a]", "z", false, false],
  ["[z-a]", "a", false, false],
  ["[z-a]", "m", false, false],
  ["[z-a]*", "zlib", false, false],
  ["[!z-a]", "m", true, true],
  ["[!z-a]", "-", true, true],
  ["[a-z]", "m", true, true],
  ["[a-z]", "M", false, true],
  ["[A-Z]", "m", false, true],
  ["[a-]", "-", true, true],
  ["[a-]", "a", true, true],
  ["[a-]", "b", false, false],
  ["[-a]", "-", true, true],
  ["[-a]", "b", false, false],
  ["[!-a]", "-", false, false],
  ["[!-a]", "b", true, true],
  ["[a-c-e]", "d", false, false],
  ["[a-c-e]", "-", true, true],
  ["[a-c-e]", "e", true, true],
  ["[a-c-e]", "b", true, true],
  ["[--a]", "-", true, true],
  ["[--a]", "0", true, true],
  ["[--a]", "b", false, true],
  ["[z-a!-c]", "!", true, true],
  ["[z-a!-c]", "-", false, false],
  ["[z-a!-c]", "c", false, false],
  ["[z-a!-c]", "x", true, true],
  ["[a-cx-z]", "y", true, true],
  ["[a-cz-x]", "y", false, false],
  ["[a-cz-x]", "b", true, true],
  ["[a-cz-x]", "z", false, false],
  ["[a-cz-x]", "x", false, false],
  ["[^a]", "^", true, true],
  ["[^a]", "b", false, false],
  ["[\\\\]", "\\", true, true],
  ["[a\\]", "\\", true, true],
  ["\\*", "\\x", true, true],
  ["\\*", "*", false, false],
  ["[*]", "*", true, true],
  ["[*]", "a", false, false],
  ["[?]", "?", true, true],
  ["[?]", "a", false, false],
  ["[[]", "[", true, true],
  ["[[]]", "[]", true, true],
  ["[&&]", "&", true, true],
  ["[|~]", "~", true, true],
  ["a*b*c", "abc", true, true],
  ["a*b*c", "aXbYc", true, true],
  ["a*b*c", "acb", false, false],
  ["**a**", "a", true, true],
  ["*a*a*a*a*a*a*a*a*a*a*b", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", false, false],
  ["*a*a*a*a*a*a*a*a*a*a*b", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaab", true, true],
  ["********************#", "hello/1.0@user/channel", false, false],
  ["********************", "hello", true, true],
  ["a\nb", "a\nb", true, true],
  ["a?b", "a\nb", true, true],
  ["a*", "a\nb\n", true, true],
  ["HEL*", "hello", false, true],
  ["hel*", "HELLO", false, true],
  ["[H]ello", "hello", false, true],
  ["[!H]ello", "hello", true, false],
  ["[!h]ello", "Hello", true, false],
  ["[Z-a]", "z", false, true],
  ["[Z-a]", "A", false, true],
  ["[Z-a]", "_", true, true],
  ["[Z-a]", "Q", false, false],
  ["zlib/1.*", "ZLIB/1.2", false, true],
  ["é*", "É", false, true],
  ["[é]", "É", false, true],
  ["ä", "Ä", false, true],
  ["[0-9]*", "1.0", true, true],
  ["[!0-9]*", "1.0", false, false],
  ["???", "abc", true, true],
  ["???", "abcd", false, false],
  ["*/*@*/*", "hello/1.0@acme/stable", true, true],
  ["*@*", "hello/1.0", false, false],
  ["[a-c-]", "-", true, true],
  ["[a-c-]", "b", true, true],
  ["[!a-c-]", "-", false, false],
  ["[!a-c-]", "d", true, true],
  ["[b-a-z]", "m", false, false],
  ["[b-a-z]", "-", true, true],
  ["[b-a-z]", "b", false, false],
  ["[b-a-z]", "a", false, false],
  ["[b-a-z]", "z", true, true],
  ["[ab-]x", "-x", true, true],
  ["[!]", "!", false, false],
  ["[!]", "[!]", true, true],
  ["[!!]", "!", false, false],
  ["[!!]", "a", true, true],
  ["😀?", "😀x", true, true],
  ["?", "😀", true, true],
  ["[😀-😂]", "😁", true, true],
  ["a[!a-z]b", "a-b", true, true],
  ["a[!a-z]b", "aqb", false, false],
  // What follows the last `*` is checked first, from the end of the text.
  ["lib*99", "lib199", true, true],
  ["lib*99", "LIB1299", false, true],
  ["lib*99", "lib98", false, false],
  ["lib*99", "lib9", false, false],
  ["lib*99", "lib99", true, true],
  ["*99", "99", true, true],
  ["*99", "9", false, false],
  ["*k", "\u212a", false, true],
  ["*K", "x\u212a", false, true],
  ["*s", "\u017f", false, true],
  ["*?", "a😀", true, true],
  ["*?x", "😀x", true, true],
  ["*??", "😀", false, false],
  ["*[0-9]9", "lib19", true, true],
  ["*[0-9]9", "lib1a9", false, false],
  ["lib[0-9]9", "LIB19", false, true],
  ["a*é", "aÉ", false, true],
  ["*[!a]", "b", true, true],
  ["*[!a]", "A", true, false],
];

describe('issue 8 item 1: fnmatch matcher agrees with Python fnmatch', () => {
  it.each(PYTHON_FNMATCH)('%j on %j: %s (ignoring case: %s)', (pattern, text, caseSensitive, ignoreCase) => {
    expect(compileFnmatch(pattern).matches(text)).toBe(caseSensitive);
    expect(compileFnmatch(pattern, { ignoreCase: true }).matches(text)).toBe(ignoreCase);
  });

  it('never throws on malformed classes', () => {
    for (const pattern of ['[', '[!', '[]', '[!]', '[z-a]', '[!z-a]', '[-', '[--]', '[\\]', ']', '[[[', '[a-']) {
      expect(() => compileFnmatch(pattern).matches('abc')).not.toThrow();
    }
  });
});

describe('issue 8 item 1: matching time does not explode', () => {
  // A backtracking RegExp needs exponential time on these; each run here is
  // microseconds. The bound is generous: only a blow-up can exceed it.
  it.each([
    ['*'.repeat(20) + '#', 'hello/1.0@user/channel'],
    ['*a'.repeat(200) + 'b', 'a'.repeat(407)],
    ['*?'.repeat(200) + '#', 'x'.repeat(407)],
    ['*[a-z]'.repeat(100) + '[!a-z]', 'q'.repeat(407)],
  ])('%s answers within a second', (pattern, text) => {
    const start = performance.now();
    const compiled = compileFnmatch(pattern, { ignoreCase: true });
    for (let i = 0; i < 100; i++) expect(compiled.matches(text)).toBe(false);
    expect(performance.now() - start).toBeLessThan(1000);
  });

  it('matches several prefixes of one text in one pass', () => {
    const compiled = compileFnmatch('hello/1.0@acme');
    const text = 'hello/1.0@acme/stable';
    expect(compiled.matchesAnyPrefix(text, [5, 6, 9, 10, 14, 15, 21])).toBe(true);
    expect(compiled.matchesAnyPrefix(text, [5, 6, 9, 10, 15, 21])).toBe(false);
    expect(compiled.matchesAnyPrefix(text, [])).toBe(false);
    // Lengths past the text name no prefix, even for a pattern ending with `*`.
    expect(compileFnmatch('h*').matchesAnyPrefix('hello', [9])).toBe(false);
    expect(compileFnmatch('h*').matchesAnyPrefix('hello', [9, 1])).toBe(true);
  });
});
