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

interface Counter {
  /** Start of the current window (ms). */
  start: number;
  /** Failed logins in the current window. */
  failures: number;
  /** Logins being checked now: they count against the limit until their outcome is known. */
  pending: number;
}

/** A login admitted for a password check; call {@link end} once with its outcome. */
export interface LoginAttempt {
  end(outcome: 'success' | 'failure' | 'aborted'): void;
}

/** What {@link LoginThrottle.begin} decided. */
export type LoginAdmission = { attempt: LoginAttempt; retryAfterSeconds?: undefined } | { attempt?: undefined; retryAfterSeconds: number };

/** How long an address a user logged in from keeps that user's logins open while the user is throttled. */
const KNOWN_ADDRESS_MS = 24 * 60 * 60 * 1000;

/**
 * Counts failed logins per user name and per client address in fixed
 * windows and says when to refuse a login without checking the password.
 * Logins still being checked count as failures until they end, so a burst
 * of concurrent guesses cannot start more checks than the limit allows.
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
  private readonly users: LruMap<string, Counter>;
  private readonly addresses: LruMap<string, Counter>;
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
    return this.decide(boundedKey(user), address === undefined ? undefined : addressKey(address), this.now());
  }

  /**
   * Admits a login of `user` from `address` for a password check, or says
   * how many seconds to wait when it must be refused now.
   */
  begin(user: string, address: string | undefined): LoginAdmission {
    const now = this.now();
    const userKey = boundedKey(user);
    const addrKey = address === undefined ? undefined : addressKey(address);
    const retryAfterSeconds = this.decide(userKey, addrKey, now);
    if (retryAfterSeconds !== undefined) return { retryAfterSeconds };
    const { failuresPerUser, failuresPerAddress } = this.options;
    const counters: Counter[] = [];
    if (failuresPerUser > 0) counters.push(this.counter(this.users, userKey, now));
    if (addrKey !== undefined && failuresPerAddress > 0) counters.push(this.counter(this.addresses, addrKey, now));
    for (const counter of counters) counter.pending++;
    let ended = false;
    const attempt: LoginAttempt = {
      end: (outcome) => {
        if (ended) return;
        ended = true;
        const at = this.now();
        for (const counter of counters) {
          counter.pending--;
          if (outcome !== 'failure') continue;
          if (at - counter.start >= this.windowMs) {
            counter.start = at;
            counter.failures = 0;
          }
          counter.failures++;
        }
        // Failure counts are not reset on success: a success every few seconds
        // (a CI script) must not give a concurrent guesser a fresh allowance.
        if (outcome === 'success' && addrKey !== undefined) {
          this.known.set(pairKey(userKey, addrKey), at + KNOWN_ADDRESS_MS);
        }
      },
    };
    return { attempt };
  }

  private decide(userKey: string, addrKey: string | undefined, now: number): number | undefined {
    const { failuresPerUser, failuresPerAddress } = this.options;
    let until = 0;
    if (addrKey !== undefined && failuresPerAddress > 0) {
      until = Math.max(until, this.blockedUntil(this.addresses.get(addrKey), failuresPerAddress, now));
    }
    // Where the user logged in before, others' failures do not lock it out.
    if (failuresPerUser > 0 && !(addrKey !== undefined && this.isKnown(userKey, addrKey, now))) {
      until = Math.max(until, this.blockedUntil(this.users.get(userKey), failuresPerUser, now));
    }
    return until > now ? Math.max(1, Math.ceil((until - now) / 1000)) : undefined;
  }

  private isKnown(userKey: string, addrKey: string, now: number): boolean {
    const expires = this.known.get(pairKey(userKey, addrKey));
    return expires !== undefined && expires > now;
  }

  /** Until when a key is refused (ms), or 0. */
  private blockedUntil(counter: Counter | undefined, limit: number, now: number): number {
    if (!counter) return 0;
    const failures = now - counter.start >= this.windowMs ? 0 : counter.failures;
    if (failures >= limit) return counter.start + this.windowMs;
    // Checks under way may still turn into failures: ask to retry shortly.
    if (failures + counter.pending >= limit) return now + 1000;
    return 0;
  }

  /** The key's counter, in its current window. */
  private counter(map: LruMap<string, Counter>, key: string, now: number): Counter {
    let counter = map.get(key);
    if (!counter) {
      counter = { start: now, failures: 0, pending: 0 };
      map.set(key, counter);
    } else if (now - counter.start >= this.windowMs) {
      counter.start = now;
      counter.failures = 0;
    }
    return counter;
  }
}

const pairKey = (userKey: string, addrKey: string) => `${userKey.length}:${userKey}${addrKey}`;
