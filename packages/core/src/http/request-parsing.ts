import { z } from 'zod';
import { MAX_PATTERN_LENGTH } from '../reference/fnmatch.js';
import { ConanError } from '../service/errors.js';

/**
 * Splits a URL path into decoded segments after the base path. With no
 * explicit base path, the Conan API starts at the first `v1` or `v2`
 * segment, so a remote URL such as `http://host/some/prefix` just works.
 * Returns `undefined` when the path is not under the API at all.
 */
export function apiSegments(pathname: string, basePath?: string): string[] | undefined {
  let rest = pathname;
  if (basePath !== undefined && basePath !== '' && basePath !== '/') {
    const base = basePath.endsWith('/') ? basePath.slice(0, -1) : basePath;
    if (rest !== base && !rest.startsWith(`${base}/`)) return undefined;
    rest = rest.slice(base.length);
  }
  const raw = rest.split('/').slice(1);
  const start = basePath === undefined ? raw.findIndex((s) => s === 'v1' || s === 'v2') : 0;
  if (start === -1) return undefined;
  return raw.slice(start).map(decodeSegment);
}

function decodeSegment(segment: string): string {
  // Most segments have nothing to decode (and, split on '/', hold no '/').
  if (!segment.includes('%')) return segment;
  let decoded: string;
  try {
    decoded = decodeURIComponent(segment);
  } catch {
    throw new ConanError('BAD_REQUEST', `Malformed percent-encoding in path segment '${segment}'`);
  }
  // An encoded slash would let one segment pose as several.
  if (decoded.includes('/')) throw new ConanError('INVALID_PATH', `Encoded '/' is not allowed in path segment '${segment}'`);
  return decoded;
}

const sha1Header = z
  .string()
  .trim()
  .regex(/^[0-9a-fA-F]{40}$/, 'X-Checksum-Sha1 must be 40 hex digits');
const contentLengthHeader = z
  .string()
  .trim()
  .regex(/^\d{1,16}$/, 'Content-Length must be a non-negative integer')
  .transform(Number);

const checksumDeployHeader = z
  .string()
  .trim()
  .toLowerCase()
  .pipe(z.enum(['true', 'false'], { message: "X-Checksum-Deploy must be 'true' or 'false'" }))
  .transform((v) => v === 'true');

/** Validated headers of a file upload. */
export function uploadHeaders(headers: Headers): { sha1?: string; contentLength?: number; checksumDeploy: boolean } {
  const sha1 = headers.get('x-checksum-sha1');
  const length = headers.get('content-length');
  const deploy = headers.get('x-checksum-deploy');
  return {
    sha1: sha1 === null ? undefined : parseOrBadRequest(sha1Header, sha1),
    contentLength: length === null ? undefined : parseOrBadRequest(contentLengthHeader, length),
    checksumDeploy: deploy === null ? false : parseOrBadRequest(checksumDeployHeader, deploy),
  };
}

const searchQuery = z.object({
  // Matching is linear, but its cost still grows with the pattern: bound it.
  q: z
    .string()
    .max(MAX_PATTERN_LENGTH, `q must be at most ${MAX_PATTERN_LENGTH} characters`)
    .default('*'),
  ignorecase: z
    .enum(['true', 'false', 'True', 'False', '1', '0'], { message: "ignorecase must be 'true' or 'false'" })
    .default('true')
    .transform((v) => v === 'true' || v === 'True' || v === '1'),
});

/** `q` and `ignorecase` of `GET /v2/conans/search`. */
export function searchParams(url: URL): { q: string; ignorecase: boolean } {
  const q = url.searchParams.get('q');
  const ignorecase = url.searchParams.get('ignorecase');
  return parseOrBadRequest(searchQuery, {
    q: q === null || q === '' ? undefined : q,
    ignorecase: ignorecase ?? undefined,
  });
}

/** Credentials from an `Authorization` header. */
export type Credentials =
  | { kind: 'none' }
  | { kind: 'bearer'; token: string }
  | { kind: 'basic'; user: string; password: string };

export function credentials(headers: Headers): Credentials {
  const header = headers.get('authorization');
  if (!header) return { kind: 'none' };
  const [scheme = '', ...rest] = header.trim().split(/\s+/);
  const value = rest.join(' ');
  switch (scheme.toLowerCase()) {
    case 'bearer':
      if (!value) throw new ConanError('UNAUTHORIZED', 'Empty bearer token');
      return { kind: 'bearer', token: value };
    case 'basic': {
      const decoded = Buffer.from(value, 'base64').toString('utf8');
      const colon = decoded.indexOf(':');
      if (colon <= 0) throw new ConanError('UNAUTHORIZED', 'Malformed Basic credentials');
      return { kind: 'basic', user: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
    }
    default:
      throw new ConanError('UNAUTHORIZED', `Unsupported authorization scheme '${scheme}'`);
  }
}

function parseOrBadRequest<T extends z.ZodType>(schema: T, value: unknown): z.output<T> {
  const result = schema.safeParse(value);
  if (!result.success) {
    throw new ConanError('BAD_REQUEST', result.error.issues.map((i) => i.message).join('; '));
  }
  return result.data;
}
