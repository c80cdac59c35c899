/**
 * Escapes a value for an LDAP search filter (RFC 4515): `*`, `(`, `)`, `\`
 * and NUL become `\2a`, `\28`, `\29`, `\5c`, `\00`, so a user name such as
 * `*)(uid=*` matches only itself.
 */
export function escapeFilterValue(value: string): string {
  return value.replace(/[*()\\\0]/g, (c) => `\\${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

/**
 * Escapes a value for one attribute value of a DN (RFC 4514): the special
 * characters get a backslash, a leading `#` or blank and a trailing blank
 * too, so a user name cannot add RDNs to a bind DN template.
 */
export function escapeDnValue(value: string): string {
  let escaped = value.replace(/[,+"\\<>;=\0]/g, (c) => (c === '\0' ? '\\00' : `\\${c}`));
  if (escaped.startsWith('#') || escaped.startsWith(' ')) escaped = `\\${escaped}`;
  if (escaped.endsWith(' ') && !escaped.endsWith('\\ ')) escaped = `${escaped.slice(0, -1)}\\ `;
  return escaped;
}

/** Replaces every `{user}` of `template` with `escape(user)`. */
export function fillTemplate(template: string, user: string, escape: (value: string) => string): string {
  return template.split('{user}').join(escape(user));
}
