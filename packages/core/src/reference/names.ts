import { z } from 'zod';

/**
 * Conan's rule for each of name, version, user and channel. Uppercase is kept
 * valid because older clients uploaded such packages.
 */
export const NAME_PATTERN = /^[a-zA-Z0-9_][a-zA-Z0-9_+.-]{1,100}$/;
/** Most characters of a revision or package id: the width of their SQL columns (`varchar(64)`). */
export const ID_MAX_LENGTH = 64;
/**
 * Recipe and package revisions and package ids. conan_server takes any one
 * URL path segment (`myreciperev`, uppercase ids...), so Cimmeria does too,
 * as long as it stays one safe segment: 1-64 characters (Conan's own ids are
 * 32-64 hex digits), no `/`, `\`, control characters or lone surrogates, and
 * not `.` or `..`. Ids are compared exactly (case-sensitive). The pattern
 * counts code points, as the SQL columns do.
 */
export const ID_PATTERN = /^(?!\.{1,2}$)[^/\\\p{Cc}\p{Cs}]{1,64}$/u;
/** What {@link ID_PATTERN} asks for, for messages. */
export const ID_RULE = `must be 1-${ID_MAX_LENGTH} characters without '/', '\\' or control characters, and not '.' or '..'`;
/** Recipe and package revisions: see {@link ID_PATTERN}. */
export const REVISION_PATTERN = ID_PATTERN;
/** Package ids: see {@link ID_PATTERN}. */
export const PACKAGE_ID_PATTERN = ID_PATTERN;

export const nameSchema = z
  .string()
  .regex(NAME_PATTERN, 'must be 2-101 characters of [a-zA-Z0-9_+.-], not starting with + . or -');
export const revisionSchema = z.string().regex(REVISION_PATTERN, ID_RULE);
export const packageIdSchema = z.string().regex(PACKAGE_ID_PATTERN, ID_RULE);
