/**
 * Conan 2's version ordering (`conans/model/version.py`): dot-separated
 * items, numbers compared as numbers, other items as text; trailing zeros
 * do not count (`1.0` equals `1`); a pre-release (`-...`) sorts before its
 * release; a build (`+...`) after.
 */
interface ParsedVersion {
  items: Array<number | string>;
  pre?: ParsedVersion;
  build?: ParsedVersion;
}

function parse(value: string, qualifier = false): ParsedVersion {
  let main = value;
  let build: ParsedVersion | undefined;
  let pre: ParsedVersion | undefined;
  if (!qualifier) {
    const plus = main.lastIndexOf('+');
    if (plus !== -1) {
      build = parse(main.slice(plus + 1), true);
      main = main.slice(0, plus);
    }
    const dash = main.indexOf('-');
    if (dash !== -1) {
      pre = parse(main.slice(dash + 1), true);
      main = main.slice(0, dash);
    }
  }
  const items: Array<number | string> = main.split('.').map((item) => (/^\s*[+-]?\d+\s*$/.test(item) ? Number(item) : item));
  while (items.length > 0 && items[items.length - 1] === 0) items.pop();
  return { items, ...(pre ? { pre } : {}), ...(build ? { build } : {}) };
}

function compareItem(a: number | string, b: number | string): number {
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  const x = String(a);
  const y = String(b);
  return x < y ? -1 : x > y ? 1 : 0;
}

function compareItems(a: Array<number | string>, b: Array<number | string>): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    const c = compareItem(a[i]!, b[i]!);
    if (c !== 0) return c;
  }
  return a.length - b.length;
}

function compareOptional(a: ParsedVersion | undefined, b: ParsedVersion | undefined): number {
  if (a === undefined) return b === undefined ? 0 : -1;
  if (b === undefined) return 1;
  return compareParsed(a, b);
}

function compareParsed(a: ParsedVersion, b: ParsedVersion): number {
  const main = compareItems(a.items, b.items);
  if (a.pre && b.pre) return main || compareParsed(a.pre, b.pre) || compareOptional(a.build, b.build);
  if (a.pre || b.pre) return main || (a.pre ? -1 : 1);
  return main || compareOptional(a.build, b.build);
}

/** Negative when `a` is an older version than `b`, positive when newer, 0 when Conan holds them equal. */
export function compareConanVersions(a: string, b: string): number {
  return Math.sign(compareParsed(parse(a), parse(b)));
}
