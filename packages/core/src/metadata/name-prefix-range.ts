/** ASCII letters lowered, as SQLite's `lower()` does (and PostgreSQL's on these "C"-collated names). */
export function asciiLower(text: string): string {
  return text.replace(/[A-Z]/g, (c) => c.toLowerCase());
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
  // Trailing U+FFFF have no successor: drop them (no upper bound when all are).
  const head = from.replace(/\uffff+$/, '');
  if (head === '') return { from };
  return { from, to: head.slice(0, -1) + String.fromCharCode(head.charCodeAt(head.length - 1) + 1) };
}
