import { LruMap } from './lru-map.js';

interface Entry<T> {
  value: T;
  /** When the look-up that produced `value` started. */
  at: number;
}

/** Options of {@link PerUserCache}. */
export interface PerUserCacheOptions {
  /** How old a cached answer may be, in seconds: the longest a change of the user goes unseen. `0`: look up every time. */
  maxAgeSeconds: number;
  /** Most users cached. Default 10,000. */
  maxEntries?: number;
  /** Clock in ms (tests). Default `Date.now`. */
  now?: () => number;
}

/**
 * Answers of a per-user look-up (credential versions, directory entries),
 * cached per user for at most `maxAgeSeconds` in a bounded LRU, so checking
 * a token costs a look-up per user every few seconds instead of one per
 * request. Concurrent look-ups of one user share one call. A failed look-up
 * (directory down) is not cached: the next check asks again.
 */
export class PerUserCache<T> {
  private readonly cache: LruMap<string, Entry<T>>;
  private readonly pending = new Map<string, Promise<T>>();
  private readonly maxAgeMs: number;
  private readonly now: () => number;

  constructor(
    private readonly lookup: (user: string) => Promise<T>,
    options: PerUserCacheOptions,
  ) {
    this.maxAgeMs = Math.max(0, options.maxAgeSeconds) * 1000;
    this.cache = new LruMap(options.maxEntries ?? 10_000);
    this.now = options.now ?? Date.now;
  }

  /** The user's answer, as known at most `maxAgeSeconds` ago. */
  async current(user: string): Promise<T> {
    const entry = this.cache.get(user);
    if (entry && this.now() - entry.at < this.maxAgeMs) return entry.value;
    return this.fresh(user);
  }

  /** The user's answer asked now (joining a look-up already under way). */
  fresh(user: string): Promise<T> {
    let pending = this.pending.get(user);
    if (!pending) {
      const at = this.now();
      pending = this.lookup(user)
        .then((value) => {
          const cached = this.cache.get(user);
          // A slower, older look-up must not overwrite a newer answer.
          if (!cached || cached.at <= at) this.cache.set(user, { value, at });
          return value;
        })
        .finally(() => this.pending.delete(user));
      this.pending.set(user, pending);
    }
    return pending;
  }
}
