import { randomBytes, scrypt as scryptCallback, timingSafeEqual, type ScryptOptions } from 'node:crypto';

const scrypt = (password: string, salt: Buffer, keylen: number, options: ScryptOptions) =>
  new Promise<Buffer>((resolve, reject) =>
    scryptCallback(password, salt, keylen, options, (error, key) => (error ? reject(error) : resolve(key))),
  );

const KEY_LENGTH = 32;
const DEFAULTS = { N: 16384, r: 8, p: 1 } as const;

/**
 * Hashes a password with scrypt. The result is self-describing
 * (`scrypt$N$r$p$salt$hash`, base64url) so parameters can change later.
 *
 * The salt is random unless `options.salt` is given. A user's tokens are
 * tied to its stored hash (see `Authenticator.credentialVersion`), so a
 * password hashed anew at every start gives tokens that no other node and
 * no later start accepts: configure hashes made once (`cimmeria
 * hash-password`). A fixed salt is only for passwords kept in plain text
 * elsewhere anyway (conan_server's `server.conf`), so that every node and
 * every start computes the same hash.
 */
export async function hashPassword(password: string, options: { salt?: Uint8Array } = {}): Promise<string> {
  const salt = options.salt ? Buffer.from(options.salt) : randomBytes(16);
  const key = await scrypt(password, salt, KEY_LENGTH, DEFAULTS);
  return ['scrypt', DEFAULTS.N, DEFAULTS.r, DEFAULTS.p, salt.toString('base64url'), key.toString('base64url')].join('$');
}

/** Checks a password against a `hashPassword` result in constant time. Malformed hashes never match. */
export async function verifyPassword(password: string, encoded: string): Promise<boolean> {
  const parts = encoded.split('$');
  if (parts.length !== 6 || parts[0] !== 'scrypt') return false;
  const [N, r, p] = parts.slice(1, 4).map(Number) as [number, number, number];
  if (![N, r, p].every((n) => Number.isSafeInteger(n) && n > 0)) return false;
  const salt = Buffer.from(parts[4]!, 'base64url');
  const expected = Buffer.from(parts[5]!, 'base64url');
  if (expected.length === 0) return false;
  const actual = await scrypt(password, salt, expected.length, { N, r, p, maxmem: 256 * N * r + 1024 * 1024 });
  return timingSafeEqual(actual, expected);
}

/** A hash that matches nothing, for comparing against when the user does not exist (same cost, no timing leak). */
let dummyHash: Promise<string> | undefined;
export function dummyPasswordHash(): Promise<string> {
  dummyHash ??= hashPassword(randomBytes(16).toString('hex'));
  return dummyHash;
}
