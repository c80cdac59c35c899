import { dummyPasswordHash, verifyPassword } from './password-hash.js';
import type { Principal } from './principal.js';

/**
 * Turns a user name and password (from `conan remote login`) into a
 * principal. Replace it to authenticate against your own user directory.
 */
export interface Authenticator {
  /** Resolves to the principal, or `undefined` when the credentials are wrong. */
  authenticate(user: string, password: string): Promise<Principal | undefined>;
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

/** Tries each authenticator in order; the first that accepts wins. */
export function firstOf(...authenticators: Authenticator[]): Authenticator {
  return {
    async authenticate(user, password) {
      for (const authenticator of authenticators) {
        const principal = await authenticator.authenticate(user, password);
        if (principal) return principal;
      }
      return undefined;
    },
  };
}
