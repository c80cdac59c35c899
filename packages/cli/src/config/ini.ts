/** One `key: value` (or `key = value`) line of an INI section, in file order. */
export interface IniEntry {
  key: string;
  value: string;
  /** 1-based line number, for error messages. */
  line: number;
}

/** An INI file as ordered sections of ordered entries (order matters for permission rules). */
export type IniDocument = Map<string, IniEntry[]>;

/** Thrown for a line that is neither a section header, an entry, a comment nor blank. */
export class IniSyntaxError extends Error {
  constructor(
    message: string,
    readonly line: number,
  ) {
    super(`line ${line}: ${message}`);
    this.name = 'IniSyntaxError';
  }
}

/**
 * Parses the INI dialect conan_server's `server.conf` uses: `[section]`
 * headers, `key: value` or `key = value` entries split on the first `:` or
 * `=` (permission patterns like `*\/*@*\/*` contain neither), and whole-line
 * `#` / `;` comments. Values are kept verbatim apart from surrounding
 * blanks: Python's ConfigParser does not strip inline comments either, and a
 * password may contain `#`.
 */
export function parseIni(text: string): IniDocument {
  const document: IniDocument = new Map();
  let current: IniEntry[] | undefined;
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  lines.forEach((raw, index) => {
    const line = index + 1;
    const trimmed = raw.trim();
    if (trimmed === '' || trimmed.startsWith('#') || trimmed.startsWith(';')) return;
    const header = /^\[([^\]]+)\]$/.exec(trimmed);
    if (header) {
      const name = header[1]!.trim();
      // Repeating a section appends to it rather than losing the first one's entries.
      current = document.get(name) ?? [];
      document.set(name, current);
      return;
    }
    const separator = trimmed.search(/[:=]/);
    if (separator <= 0) throw new IniSyntaxError(`expected "key: value" or "[section]", got "${trimmed}"`, line);
    if (!current) throw new IniSyntaxError(`"${trimmed}" is outside any [section]`, line);
    current.push({ key: trimmed.slice(0, separator).trim(), value: trimmed.slice(separator + 1).trim(), line });
  });
  return document;
}
