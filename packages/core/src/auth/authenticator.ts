import { createHash } from 'node:crypto';
import { ConanError } from '../service/errors.js';
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
  /**
   * Optional: who the user named `user` is now, asked without their
   * password: the principal with its current `groups`, or `undefined` when
   * there is no such user any more (removed, or disabled where the
   * directory says so). API tokens are checked with it (answers cached for
   * `credentialCacheSeconds`), so a token never grants more than its user
   * has now. Throw `ConanError('UNAVAILABLE')` when the directory cannot
   * answer (token checks get 503), and {@link UserLookupUnsupportedError}
   * when this authenticator, as configured, cannot look users up (no API
   * tokens for its users). Without this method, `credentialVersion` says
   * whether the user exists; without either, every user is taken to exist.
   */
  lookupUser?(user: string): Promise<Principal | undefined>;
}

/**
 * Thrown by `Authenticator.lookupUser` when users cannot be looked up
 * without their password as configured (an LDAP bind DN template without a
 * search): creating an API token for such a user is refused (403) with the
 * message, which should name the setting to add; an existing token of such
 * a user is refused (401).
 */
export class UserLookupUnsupportedError extends ConanError {
  constructor(message: string) {
    super('FORBIDDEN', message);
    this.name = 'UserLookupUnsupportedError';
  }
}

/**
 * The authenticator's way of looking a user up without a password:
 * `lookupUser`, else `credentialVersion` (a user with a version exists, with
 * no groups), else `undefined` (it cannot tell).
 */
export function userLookupOf(authenticator: Authenticator): ((user: string) => Promise<Principal | undefined>) | undefined {
  if (authenticator.lookupUser) return (user) => authenticator.lookupUser!(user);
  if (authenticator.credentialVersion) {
    return async (user) => ((await authenticator.credentialVersion!(user)) === undefined ? undefined : { name: user });
  }
  return undefined;
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
 * there or changing its password there revokes the user's tokens. Its
 * `lookupUser` likewise asks each authenticator that can look users up, in
 * order, and the first that knows the user answers.
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
  const lookups = authenticators.map(userLookupOf).filter((lookup) => lookup !== undefined);
  if (lookups.length > 0) {
    combined.lookupUser = async (user) => {
      let unsupported: UserLookupUnsupportedError | undefined;
      for (const lookup of lookups) {
        try {
          const principal = await lookup(user);
          if (principal) return principal;
        } catch (error) {
          // Another authenticator may still know the user; say why only when none does.
          if (!(error instanceof UserLookupUnsupportedError)) throw error;
          unsupported ??= error;
        }
      }
      if (unsupported) throw unsupported;
      return undefined;
    };
  }
  return combined;
}
