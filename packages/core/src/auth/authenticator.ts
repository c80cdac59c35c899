import { createHash } from 'node:crypto';
import { dummyPasswordHash, verifyPassword } from './password-hash.js';
import type { Principal } from './principal.js';

/**
 * Turns a user name and password (from `conan remote login`) into a
 * principal. Replace it to authenticate against your own user directory.
 */
export interface Authenticator {
  /** Resolves to the principal, or `undefined` when the credentials are wrong. */
  authenticate(user: string, password: string): Promise<Principal | undefined>;
  /**
   * Optional: a short string that changes whenever the credentials of the
   * user named `user` (a principal's name) change, or `undefined` when there
   * is no such user any more. Session tokens carry the version they were
   * issued under and stop being accepted once it differs, so removing a
   * user or changing a password revokes that user's tokens. Without this
   * method tokens stay valid until they expire.
   */
  credentialVersion?(user: string): Promise<string | undefined>;
}

/**
 * The credential version of a stored password hash. The hash embeds a fresh
 * random salt, so a new password, or the same password set again, or a user
 * removed and created again, gives a new version. One-way and short: tokens
 * (readable by their holder) carry it.
 */
export function credentialVersionOfHash(passwordHash: string): string {
  return createHash('sha256').update('cimmeria credential version\0').update(passwordHash).digest('base64url').slice(0, 22);
}

/** Something that can look up a user's scrypt password hash (a config map, the metadata store...). */
export interface PasswordHashSource {
  getPasswordHash(user: string): Promise<string | undefined>;
}

/** Authenticates against scrypt password hashes from any source. */
export class PasswordAuthenticator implements Authenticator {
  constructor(private readonly source: PasswordHashSource) {}

  async authenticate(user: string, password: string): Promise<Principal | undefined> {
    const hash = await this.source.getPasswordHash(user);
    // Hash even for unknown users, so response time does not tell which users exist.
    const ok = await verifyPassword(password, hash ?? (await dummyPasswordHash()));
    return ok && hash !== undefined ? { name: user } : undefined;
  }

  /** Changes with the user's password hash; `undefined` once the user is gone. */
  async credentialVersion(user: string): Promise<string | undefined> {
    const hash = await this.source.getPasswordHash(user);
    return hash === undefined ? undefined : credentialVersionOfHash(hash);
  }
}

/** Users given as a fixed map of name -> scrypt hash (from a config file). */
export class StaticUsers implements PasswordHashSource {
  private readonly users: Map<string, string>;
  constructor(users: Record<string, string>) {
    this.users = new Map(Object.entries(users));
  }
  async getPasswordHash(user: string): Promise<string | undefined> {
    return this.users.get(user);
  }
}

/**
 * Looks a user up in each source in order; the first source that knows the
 * user answers (so one scrypt per login, whichever source holds the user).
 */
export function chainHashSources(...sources: PasswordHashSource[]): PasswordHashSource {
  return {
    async getPasswordHash(user) {
      for (const source of sources) {
        const hash = await source.getPasswordHash(user);
        if (hash !== undefined) return hash;
      }
      return undefined;
    },
  };
}

/**
 * Tries each authenticator in order; the first that accepts wins. Its
 * credential version (when any of them has one) is that of the first
 * authenticator, in the same order, that knows the user: removing the user
 * there or changing its password there revokes the user's tokens.
 */
export function firstOf(...authenticators: Authenticator[]): Authenticator {
  const versioned = authenticators.filter((a) => a.credentialVersion !== undefined);
  const combined: Authenticator = {
    async authenticate(user, password) {
      for (const authenticator of authenticators) {
        const principal = await authenticator.authenticate(user, password);
        if (principal) return principal;
      }
      return undefined;
    },
  };
  if (versioned.length > 0) {
    combined.credentialVersion = async (user) => {
      for (const authenticator of versioned) {
        const version = await authenticator.credentialVersion!(user);
        if (version !== undefined) return version;
      }
      return undefined;
    };
  }
  return combined;
}
