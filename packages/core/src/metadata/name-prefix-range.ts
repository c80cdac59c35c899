/** ASCII letters lowered, as SQLite's `lower()` does (and PostgreSQL's on these "C"-collated names). */
export function asciiLower(text: string): string {
  return text.replace(/[A-Z]/g, (c) => c.toLowerCase());
}

/** ASCII letters raised. */
function asciiUpper(text: string): string {
  return text.replace(/[a-z]/g, (c) => c.toUpperCase());
}

/**
 * Whether `text` starts with `lowered` (already ASCII-lowered), ASCII
 * case-insensitively: the same as `lowerNameRange(prefix)` holding
 * `asciiLower(text)`, without building that string.
 */
export function startsWithIgnoringAsciiCase(text: string, lowered: string): boolean {
  if (text.length < lowered.length) return false;
  for (let i = 0; i < lowered.length; i++) {
    let code = text.charCodeAt(i);
    if (code >= 65 && code <= 90) code += 32;
    if (code !== lowered.charCodeAt(i)) return false;
  }
  return true;
}

/** Letters of a prefix whose cases each get ranges of their own: at most 2^3 ranges. */
const EXPANDED_LETTERS = 3;

const isAsciiLetter = (code: number) => (code >= 65 && code <= 90) || (code >= 97 && code <= 122);

/** The first string after every string that starts with `text`, in code-unit order; `undefined` when there is none. */
function pastPrefix(text: string): string | undefined {
  // Trailing U+FFFF have no successor: drop them.
  const head = text.replace(/\uffff+$/, '');
  if (head === '') return undefined;
  return head.slice(0, -1) + String.fromCharCode(head.charCodeAt(head.length - 1) + 1);
}

/**
 * Disjoint ranges of `name` itself, in code-unit order, that together hold
 * every name starting with `prefix` ASCII case-insensitively (and a few
 * others: the caller checks the prefix on what it reads). An index on
 * `name` serves each; one range from the prefix in upper case to past it in
 * lower case would hold most names (upper-case letters come before
 * lower-case ones), so each case of the first letters gets its own range,
 * and the rest of the prefix is bounded by its upper and lower case.
 * Empty for the empty prefix (every name).
 */
export function caseBlindNameRanges(prefix: string): Array<{ from: string; to?: string }> {
  if (prefix === '') return [];
  let cut = prefix.length;
  for (let i = 0, letters = 0; i < prefix.length; i++) {
    if (isAsciiLetter(prefix.charCodeAt(i)) && ++letters === EXPANDED_LETTERS) {
      cut = i + 1;
      break;
    }
  }
  const rest = prefix.slice(cut);
  // Upper case before lower case at each letter: the heads come in code-unit order.
  let heads = [''];
  for (const char of prefix.slice(0, cut)) {
    const upper = char.toUpperCase();
    const lower = char.toLowerCase();
    heads = isAsciiLetter(char.charCodeAt(0)) ? heads.flatMap((h) => [h + upper, h + lower]) : heads.map((h) => h + char);
  }
  return heads.map((head) => {
    const to = pastPrefix(head + asciiLower(rest));
    return to === undefined ? { from: head + asciiUpper(rest) } : { from: head + asciiUpper(rest), to };
  });
}

/**
 * The range of `lower(name)` holding the names that start with `prefix`,
 * ASCII case-insensitively (names are ASCII; SQLite's `lower()` lowers
 * ASCII only): from the lowered prefix up to it with its last code unit
 * incremented. Compared by code units, it is exact, and an index on
 * `lower(name)` serves it (LIKE cannot use one on SQLite). `undefined` for
 * the empty prefix (every name).
 */
export function lowerNameRange(prefix: string): { from: string; to?: string } | undefined {
  if (prefix === '') return undefined;
  const from = asciiLower(prefix);
  const to = pastPrefix(from);
  return to === undefined ? { from } : { from, to };
}
