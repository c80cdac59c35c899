/**
 * Caller input as it may appear in an error message: control characters
 * escaped (`\x0a`), so a message stays one line in logs and terminals, and
 * at most `max` characters.
 */
export function printable(value: string, max = Infinity): string {
  const shown = value.length > max ? `${value.slice(0, max)}...` : value;
  // eslint-disable-next-line no-control-regex
  return shown.replace(/[\u0000-\u001f\u007f-\u009f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}
