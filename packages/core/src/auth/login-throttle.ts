import { addressKey, boundedKey } from './address-key.js';
import { LruMap } from './lru-map.js';

/** Options of {@link LoginThrottle}. */
export interface LoginThrottleOptions {
  /** Failed logins of one user name within a window before its logins are refused. `0` turns this off. */
  failuresPerUser: number;
  /** Failed logins from one client address (IPv6: one /64) within a window before its logins are refused. `0` turns this off. */
  failuresPerAddress: number;
  /** Length of a window in seconds: a throttled user or address is let in again at the latest when its window ends. */
  windowSeconds: number;
  /** Most users, addresses and user-address pairs remembered (each, least recently used evicted). Default 10,000. */
  maxEntries?: number;
  /** Clock in ms (tests). Default `Date.now`. */
  now?: () => number;
}

interface Window {
  start: number;
  failures: number;
}

/** How long an address a user logged in from keeps that user's logins open while the user is throttled. */
const KNOWN_ADDRESS_MS = 24 * 60 * 60 * 1000;

/**
 * Counts failed logins per user name and per client address in fixed
 * windows and says when to refuse a login without checking the password.
 *
 * State is in memory and per node: behind a load balancer each node counts
 * on its own, so a cluster of N nodes allows up to N times the limits. Memory
 * is bounded by `maxEntries`.
 *
 * A user throttled by failures from other addresses is never locked out past
 * the end of the window, and meanwhile still gets in from an address it
 * logged in from successfully in the last 24 hours: an attacker guessing a
 * victim's password can make the victim wait at most one window, and not at
 * all from where the victim usually works.
 */
export class LoginThrottle {
  private readonly users: LruMap<string, Window>;
  private readonly addresses: LruMap<string, Window>;
  private readonly known: LruMap<string, number>;
  private readonly windowMs: number;
  private readonly now: () => number;

  constructor(private readonly options: LoginThrottleOptions) {
    if (!(options.windowSeconds > 0)) throw new RangeError('windowSeconds must be positive');
    const maxEntries = options.maxEntries ?? 10_000;
    this.users = new LruMap(maxEntries);
    this.addresses = new LruMap(maxEntries);
    this.known = new LruMap(maxEntries);
    this.windowMs = options.windowSeconds * 1000;
    this.now = options.now ?? Date.now;
  }

  /**
   * Seconds to wait when a login of `user` from `address` must be refused
   * now, `undefined` when it may be checked.
   */
  retryAfterSeconds(user: string, address: string | undefined): number | undefined {
    const now = this.now();
    let until = 0;
    const userKey = boundedKey(user);
    const addrKey = address === undefined ? undefined : addressKey(address);
    if (addrKey !== undefined) until = Math.max(until, this.blockedUntil(this.addresses, addrKey, this.options.failuresPerAddress, now));
    if (addrKey === undefined || !this.isKnown(userKey, addrKey, now)) {
      until = Math.max(until, this.blockedUntil(this.users, userKey, this.options.failuresPerUser, now));
    }
    return until > now ? Math.max(1, Math.ceil((until - now) / 1000)) : undefined;
  }

  /** Counts a failed login (wrong password or unknown user). */
  recordFailure(user: string, address: string | undefined): void {
    const now = this.now();
    if (this.options.failuresPerUser > 0) this.count(this.users, boundedKey(user), now);
    if (address !== undefined && this.options.failuresPerAddress > 0) this.count(this.addresses, addressKey(address), now);
  }

  /**
   * Remembers that `user` logged in from `address`. Failure counts are not
   * reset: a success every few seconds (a CI script) must not give a
   * concurrent guesser a fresh allowance each time.
   */
  recordSuccess(user: string, address: string | undefined): void {
    if (address === undefined) return;
    this.known.set(pairKey(boundedKey(user), addressKey(address)), this.now() + KNOWN_ADDRESS_MS);
  }

  private isKnown(userKey: string, addrKey: string, now: number): boolean {
    const expires = this.known.get(pairKey(userKey, addrKey));
    return expires !== undefined && expires > now;
  }

  private blockedUntil(map: LruMap<string, Window>, key: string, limit: number, now: number): number {
    if (limit <= 0) return 0;
    const window = map.get(key);
    if (!window || now - window.start >= this.windowMs || window.failures < limit) return 0;
    return window.start + this.windowMs;
  }

  private count(map: LruMap<string, Window>, key: string, now: number): void {
    const window = map.get(key);
    if (!window || now - window.start >= this.windowMs) map.set(key, { start: now, failures: 1 });
    else window.failures++;
  }
}

const pairKey = (userKey: string, addrKey: string) => `${userKey.length}:${userKey}${addrKey}`;
