/**
 * fnmatch patterns as Python's `fnmatch` reads them (what conan_server
 * uses): `*`, `?`, `[seq]`, `[!seq]`, ranges `a-z`; a `]` right after `[`
 * or `[!` is literal, an unclosed `[` is a literal `[`, a reversed range
 * such as `[z-a]` matches nothing.
 *
 * Patterns come from anonymous callers, so they are never turned into a
 * RegExp (a backtracking engine takes exponential time on `*a*a*a...b`).
 * They are compiled into a list of one-character tests and `*`s, and run
 * as a bit-parallel NFA: every state of the automaton advances at once per
 * character, so a match costs O(text × pattern / 32), whatever the pattern.
 */

/** Longest pattern a caller may send: room for a literal full reference (4 × 101 + 3 characters) and then some. */
export const MAX_PATTERN_LENGTH = 512;

/** A compiled fnmatch pattern. */
export interface FnmatchPattern {
  /** Whether the whole of `text` matches. */
  matches(text: string): boolean;
  /**
   * Whether the pattern matches `text` cut after any of `lengths` (in
   * UTF-16 code units, as `String.length`), in one pass over `text`.
   */
  matchesAnyPrefix(text: string, lengths: readonly number[]): boolean;
}

/** Options of {@link compileFnmatch}. */
export interface FnmatchOptions {
  /** Match letters regardless of case, as Python's `re.IGNORECASE`. Default `false`. */
  ignoreCase?: boolean;
}

/** Code points a character class holds: single ones and inclusive ranges. */
interface CharClass {
  negate: boolean;
  ranges: Array<readonly [number, number]>;
}

type Token = { kind: 'star' } | { kind: 'any' } | { kind: 'literal'; char: string } | { kind: 'class'; set: CharClass };

const MATCH_NOTHING: CharClass = { negate: false, ranges: [] };
const MATCH_ANYTHING: CharClass = { negate: true, ranges: [] };

/** Marks the hyphen between two chunks of a class, the only one that makes a range. */
const RANGE = Symbol('range');

/**
 * The class of `[body]`, following Python's `fnmatch.translate`: hyphens
 * split the body into chunks; the hyphen between two chunks is a range from
 * the last character of one to the first of the next; a reversed range is
 * dropped with both its ends; every other character, hyphens included, is
 * literal; a leading `!` negates.
 */
function parseClass(body: string[]): CharClass {
  let items: Array<string | typeof RANGE>;
  if (!body.includes('-')) {
    items = body;
  } else {
    const chunks: string[][] = [];
    let start = 0;
    let k = body[0] === '!' ? 2 : 1;
    for (;;) {
      k = body.indexOf('-', k);
      if (k < 0) break;
      chunks.push(body.slice(start, k));
      start = k + 1;
      k += 3;
    }
    const last = body.slice(start);
    if (last.length > 0) chunks.push(last);
    else chunks[chunks.length - 1]!.push('-');
    for (let i = chunks.length - 1; i > 0; i--) {
      const before = chunks[i - 1]!;
      const after = chunks[i]!;
      if (codePoint(before[before.length - 1]!) > codePoint(after[0]!)) {
        chunks[i - 1] = [...before.slice(0, -1), ...after.slice(1)];
        chunks.splice(i, 1);
      }
    }
    items = chunks.flatMap((chunk, i) => (i === 0 ? chunk : [RANGE, ...chunk]));
  }
  if (items.length === 0) return MATCH_NOTHING;
  if (items.length === 1 && items[0] === '!') return MATCH_ANYTHING;
  const negate = items[0] === '!';
  if (negate) items = items.slice(1);
  // Read as a RegExp class would: `x RANGE y` is a range, a RANGE with no
  // character before it (right after the negation) is a literal hyphen.
  const ranges: Array<readonly [number, number]> = [];
  for (let i = 0; i < items.length; i++) {
    const item = items[i]!;
    const from = item === RANGE ? 45 /* '-' */ : codePoint(item);
    if (item !== RANGE && items[i + 1] === RANGE && typeof items[i + 2] === 'string') {
      ranges.push([from, codePoint(items[i + 2] as string)]);
      i += 2;
    } else {
      ranges.push([from, from]);
    }
  }
  return { negate, ranges };
}

const codePoint = (char: string) => char.codePointAt(0)!;

/** The tokens of a pattern, consecutive `*` collapsed into one. */
function tokenize(pattern: string): Token[] {
  const chars = Array.from(pattern);
  const tokens: Token[] = [];
  for (let i = 0; i < chars.length; i++) {
    const c = chars[i]!;
    if (c === '*') {
      if (tokens[tokens.length - 1]?.kind !== 'star') tokens.push({ kind: 'star' });
    } else if (c === '?') {
      tokens.push({ kind: 'any' });
    } else if (c === '[') {
      let j = i + 1;
      if (chars[j] === '!') j++;
      if (chars[j] === ']') j++;
      while (j < chars.length && chars[j] !== ']') j++;
      if (j >= chars.length) {
        tokens.push({ kind: 'literal', char: '[' });
      } else {
        tokens.push({ kind: 'class', set: parseClass(chars.slice(i + 1, j)) });
        i = j;
      }
    } else {
      tokens.push({ kind: 'literal', char: c });
    }
  }
  return tokens;
}

function inClass(set: CharClass, point: number): boolean {
  return set.ranges.some(([from, to]) => from <= point && point <= to);
}

/** The character, its lower and its upper case, each when it is one code point. */
function caseVariants(char: string): string[] {
  const variants = [char];
  for (const other of [char.toLowerCase(), char.toUpperCase()]) {
    if (other !== char && Array.from(other).length === 1) variants.push(other);
  }
  return variants;
}

function tokenAccepts(token: Exclude<Token, { kind: 'star' }>, char: string, ignoreCase: boolean): boolean {
  const variants = ignoreCase ? caseVariants(char) : [char];
  switch (token.kind) {
    case 'any':
      return true;
    case 'literal': {
      const wanted = ignoreCase ? caseVariants(token.char) : [token.char];
      return variants.some((v) => wanted.includes(v));
    }
    case 'class': {
      const found = variants.some((v) => inClass(token.set, codePoint(v)));
      return found !== token.set.negate;
    }
  }
}

/** Distinct non-ASCII characters whose transition masks are kept per pattern. */
const MASK_CACHE_LIMIT = 256;

/**
 * Compiles an fnmatch pattern. Callers bound the pattern's length (see
 * {@link MAX_PATTERN_LENGTH}); matching time is linear in the text for a
 * given pattern.
 */
export function compileFnmatch(pattern: string, options: FnmatchOptions = {}): FnmatchPattern {
  const ignoreCase = options.ignoreCase ?? false;
  const tokens = tokenize(pattern);
  // Bit j of the state set means "the first j tokens matched"; bit
  // tokens.length accepts. Words of 32 bits, least significant first.
  const words = (tokens.length >>> 5) + 1;
  const acceptWord = tokens.length >>> 5;
  const acceptBit = 1 << (tokens.length & 31);
  const stars = new Uint32Array(words);
  tokens.forEach((t, j) => {
    if (t.kind === 'star') stars[j >>> 5]! |= 1 << (j & 31);
  });
  // Once the pattern ends with `*` and has matched, every longer text matches too.
  const endsWithStar = tokens[tokens.length - 1]?.kind === 'star';
  const asciiMasks: Array<Uint32Array | undefined> = new Array(128);
  const otherMasks = new Map<string, Uint32Array>();

  /** States j whose token j consumes the character at `text[at]` (`width` code units). */
  function maskAt(text: string, at: number, width: number): Uint32Array {
    const code = text.charCodeAt(at);
    if (code < 128) return asciiMasks[code] ?? computeMask(String.fromCharCode(code));
    const char = text.slice(at, at + width);
    return otherMasks.get(char) ?? computeMask(char);
  }

  function computeMask(char: string): Uint32Array {
    const code = char.charCodeAt(0);
    const mask = new Uint32Array(words);
    tokens.forEach((t, j) => {
      if (t.kind !== 'star' && tokenAccepts(t, char, ignoreCase)) mask[j >>> 5]! |= 1 << (j & 31);
    });
    if (code < 128) asciiMasks[code] = mask;
    else if (otherMasks.size < MASK_CACHE_LIMIT) otherMasks.set(char, mask);
    return mask;
  }

  /** Adds j+1 for every star state j: a `*` may match nothing. Stars never follow stars, so once is enough. */
  function skipStars(set: Uint32Array): void {
    let carry = 0;
    for (let w = 0; w < words; w++) {
      const s = set[w]! & stars[w]!;
      set[w] = set[w]! | (s << 1) | carry;
      carry = s >>> 31;
    }
  }
  const initial = new Uint32Array(words);
  initial[0] = 1;
  skipStars(initial);
  // Reused between calls: matching is synchronous, so calls never overlap.
  const states = new Uint32Array(words);

  function matchesAnyPrefix(text: string, lengths: readonly number[]): boolean {
    // Lengths past the end of the text name no prefix of it.
    const ends = (isAscending(lengths) ? lengths : [...lengths].sort((a, b) => a - b)).filter(
      (length) => length >= 0 && length <= text.length,
    );
    const longest = ends[ends.length - 1];
    if (longest === undefined) return false;
    let end = 0;
    states.set(initial);
    // Highest word with a state in it: states move up at most one bit per
    // character, so words above top + 1 stay empty and are skipped.
    let top = 0;
    let consumed = 0;
    for (;;) {
      while (ends[end]! < consumed) end++;
      if ((states[acceptWord]! & acceptBit) !== 0) {
        if (endsWithStar || ends[end] === consumed) return true;
      }
      if (consumed >= longest) return false;
      // One character: a code unit, or two for a surrogate pair.
      const code = text.charCodeAt(consumed);
      const width = code >= 0xd800 && code <= 0xdbff && consumed + 1 < text.length ? 2 : 1;
      const mask = maskAt(text, consumed, width);
      // In place, lowest word first: a token consuming the character moves
      // its state on, a star stays; then stars reached are skipped too.
      let carry = 0;
      let skipCarry = 0;
      const last = Math.min(top + 1, words - 1);
      top = -1;
      for (let w = 0; w <= last; w++) {
        const before = states[w]!;
        const moved = before & mask[w]!;
        let after = (moved << 1) | carry | (before & stars[w]!);
        carry = moved >>> 31;
        const skipped = after & stars[w]!;
        after |= (skipped << 1) | skipCarry;
        skipCarry = skipped >>> 31;
        states[w] = after;
        if (after !== 0) top = w;
      }
      if (top < 0) return false;
      consumed += width;
    }
  }

  // The tokens after the last `*` each consume one of the last characters
  // of a whole match: checked first, from the end, they reject most texts
  // (`lib*99` over 50,000 names) before the automaton runs over them.
  const lastStar = tokens.findLastIndex((t) => t.kind === 'star');
  const tail = lastStar < 0 ? 0 : tokens.length - 1 - lastStar;

  /** False when `text` cannot end as the pattern does; true when it may (the automaton decides). */
  function tailMayMatch(text: string): boolean {
    // Fewer code units than tokens: fewer characters, too.
    if (text.length < tail) return false;
    for (let k = 1; k <= tail; k++) {
      const code = text.charCodeAt(text.length - k);
      // Past a non-ASCII code unit, characters and code units may no longer line up.
      if (code >= 128) return true;
      const j = tokens.length - k;
      const mask = asciiMasks[code] ?? computeMask(String.fromCharCode(code));
      if ((mask[j >>> 5]! & (1 << (j & 31))) === 0) return false;
    }
    return true;
  }

  return {
    matches: (text) => tailMayMatch(text) && matchesAnyPrefix(text, [text.length]),
    matchesAnyPrefix,
  };
}

function isAscending(values: readonly number[]): boolean {
  for (let i = 1; i < values.length; i++) if (values[i]! < values[i - 1]!) return false;
  return true;
}

/** The literal text a pattern starts with, before its first wildcard: a cheap pre-filter for SQL. */
export function literalPrefix(pattern: string): string {
  const wildcard = pattern.search(/[*?[]/);
  return wildcard === -1 ? pattern : pattern.slice(0, wildcard);
}
