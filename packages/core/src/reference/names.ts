import { z } from 'zod';

/**
 * Conan's rule for each of name, version, user and channel. Uppercase is kept
 * valid because older clients uploaded such packages.
 */
export const NAME_PATTERN = /^[a-zA-Z0-9_][a-zA-Z0-9_+.-]{1,100}$/;
/** Recipe and package revisions: lowercase hex, bounded. */
export const REVISION_PATTERN = /^[0-9a-f]{1,64}$/;
/** Package ids are sha1 hex digests in practice; bounded the same way. */
export const PACKAGE_ID_PATTERN = /^[0-9a-f]{1,64}$/;

export const nameSchema = z
  .string()
  .regex(NAME_PATTERN, 'must be 2-101 characters of [a-zA-Z0-9_+.-], not starting with + . or -');
export const revisionSchema = z.string().regex(REVISION_PATTERN, 'must be 1-64 lowercase hex digits');
export const packageIdSchema = z.string().regex(PACKAGE_ID_PATTERN, 'must be 1-64 lowercase hex digits');
