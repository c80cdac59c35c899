import type { Authenticator } from './authenticator.js';
import { LruMap } from './lru-map.js';

interface Entry {
  version: string | undefined;
  /** When the look-up that produced `version` started. */
  at: number;
}

/** Options of {@link CredentialVersions}. */
export interface CredentialVersionsOptions {
  /** How old a cached version may be, in seconds: the longest a revoked token is still accepted. `0`: look up every time. */
  maxAgeSeconds: number;
  /** Most users cached. Default 10,000. */
  maxEntries?: number;
  /** Clock in ms (tests). Default `Date.now`. */
  now?: () => number;
}

/**
 * Current credential versions of users, cached per user for at most
 * `maxAgeSeconds`, so checking a token costs a look-up per user every few
 * seconds instead of one per request. Concurrent look-ups of one user share
 * one call.
 */
export class CredentialVersions {
  private readonly cache: LruMap<string, Entry>;
  private readonly pending = new Map<string, Promise<string | undefined>>();
  private readonly maxAgeMs: number;
  private readonly now: () => number;

  constructor(
    private readonly lookup: Required<Pick<Authenticator, 'credentialVersion'>>,
    options: CredentialVersionsOptions,
  ) {
    this.maxAgeMs = Math.max(0, options.maxAgeSeconds) * 1000;
    this.cache = new LruMap(options.maxEntries ?? 10_000);
    this.now = options.now ?? Date.now;
  }

  /** The user's version, as known at most `maxAgeSeconds` ago. */
  async current(user: string): Promise<string | undefined> {
    const entry = this.cache.get(user);
    if (entry && this.now() - entry.at < this.maxAgeMs) return entry.version;
    return this.fresh(user);
  }

  /** The user's version asked from the authenticator now (joining a look-up already under way). */
  fresh(user: string): Promise<string | undefined> {
    let pending = this.pending.get(user);
    if (!pending) {
      const at = this.now();
      pending = this.lookup
        .credentialVersion(user)
        .then((version) => {
          const cached = this.cache.get(user);
          // A slower, older look-up must not overwrite a newer answer.
          if (!cached || cached.at <= at) this.cache.set(user, { version, at });
          return version;
        })
        .finally(() => this.pending.delete(user));
      this.pending.set(user, pending);
    }
    return pending;
  }
}
