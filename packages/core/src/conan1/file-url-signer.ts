import { SignJWT, jwtVerify } from 'jose';
import { z } from 'zod';
import { ConanError } from '../service/errors.js';

/** A file of an upload batch the manifest's token names, so its upload can publish the batch. */
export interface BatchFile {
  /** File name in the revision. */
  path: string;
  /** Blob key chosen for it at `upload_urls`. */
  key: string;
  /** Size announced by the client. */
  size: number;
}

/** What a signed Conan 1 file URL allows. */
export type FileGrant =
  | { op: 'get'; resourcePath: string; user?: string }
  | { op: 'put'; resourcePath: string; user: string; size: number; key: string; batch?: BatchFile[] };

const claimsSchema = z.union([
  z.object({ op: z.literal('get'), rp: z.string(), u: z.string().optional() }),
  z.object({
    op: z.literal('put'),
    rp: z.string(),
    u: z.string(),
    s: z.number().int().nonnegative(),
    k: z.string(),
    b: z.array(z.tuple([z.string(), z.string(), z.number().int().nonnegative()])).optional(),
  }),
]);

/** Neither the client nor anyone else may tell why a URL is refused: conan_server answers a bare 404. */
const refused = () => new ConanError('FILE_NOT_FOUND', 'File not found');

/**
 * Signs and checks the file URLs Conan 1 clients get from `upload_urls`,
 * `download_urls` and `digest` (HS256 JWTs, as conan_server's
 * `updown_secret` tokens): a URL names one resource path, expires, and for
 * uploads carries the announced size and the blob key the server chose.
 * Stateless, so any node accepts any node's URLs.
 */
export class FileUrlSigner {
  private readonly key: Uint8Array;

  constructor(
    secret: Uint8Array,
    private readonly expiresInSeconds: number,
  ) {
    this.key = secret;
  }

  sign(grant: FileGrant): Promise<string> {
    const claims =
      grant.op === 'get'
        ? { op: grant.op, rp: grant.resourcePath, ...(grant.user === undefined ? {} : { u: grant.user }) }
        : {
            op: grant.op,
            rp: grant.resourcePath,
            u: grant.user,
            s: grant.size,
            k: grant.key,
            ...(grant.batch ? { b: grant.batch.map((f) => [f.path, f.key, f.size]) } : {}),
          };
    return new SignJWT(claims)
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setExpirationTime(`${this.expiresInSeconds}s`)
      .sign(this.key);
  }

  /** The grant of a URL's `signature` for `resourcePath`; a bad, expired or foreign token is `FILE_NOT_FOUND`. */
  async verify(token: string, resourcePath: string): Promise<FileGrant> {
    let payload: unknown;
    try {
      ({ payload } = await jwtVerify(token, this.key, { algorithms: ['HS256'] }));
    } catch {
      throw refused();
    }
    const parsed = claimsSchema.safeParse(payload);
    if (!parsed.success || parsed.data.rp !== resourcePath) throw refused();
    const c = parsed.data;
    if (c.op === 'get') return { op: 'get', resourcePath: c.rp, ...(c.u === undefined ? {} : { user: c.u }) };
    return {
      op: 'put',
      resourcePath: c.rp,
      user: c.u,
      size: c.s,
      key: c.k,
      ...(c.b ? { batch: c.b.map(([path, key, size]) => ({ path, key, size })) } : {}),
    };
  }
}
