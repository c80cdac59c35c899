import { createHmac, randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { ConanError } from '../service/errors.js';
import type { Authenticator } from './authenticator.js';
import { ConcurrencyLimit, QueueFullError } from './concurrency-limit.js';
import { LoginThrottle, type LoginAttempt } from './login-throttle.js';
import { LruMap } from './lru-map.js';
import type { Principal } from './principal.js';

export { LOGIN_PROTECTION_DEFAULTS } from '../defaults.js';

/** Options of {@link LoginGuard}. */
export interface LoginGuardOptions {
  /** Password checks (calls of the authenticator) running at once. */
  maxConcurrentChecks: number;
  /** Checks waiting for a slot; past that a login is answered 503 at once. */
  queueSize: number;
  /** Failed logins per user name within a window before 429 (`0`: off). */
  failuresPerUser: number;
  /** Failed logins per client address within a window before 429 (`0`: off). */
  failuresPerAddress: number;
  /** Window of the failure counts, in seconds. */
  windowSeconds: number;
  /** How long a successful user + password is remembered, in seconds (`0`: never). */
  successCacheSeconds: number;
  /**
   * Pause before answering a throttled login, in ms. Default 1000: the
   * caller was told to wait anyway, and a client flooding the node then
   * gets one answer a second per connection instead of as many as the node
   * can give, which would slow every other request.
   */
  throttledAnswerDelayMs?: number;
  /** Most entries of each in-memory map. Default 10,000. */
  maxEntries?: number;
  /** Clock in ms (tests). Default `Date.now`. */
  now?: () => number;
}

const tooManyFailures = (retryAfterSeconds: number) =>
  new ConanError('TOO_MANY_REQUESTS', 'Too many failed logins: retry later', { 'retry-after': String(retryAfterSeconds) });

interface CachedLogin {
  principal: Principal;
  expires: number;
}

/**
 * Checks passwords without letting callers make the node slow for others:
 * refuses (429 with `Retry-After`, after a pause, without hashing) users
 * and addresses with too many recent failures, runs at most a few checks at once (scrypt
 * runs on libuv's thread pool, shared with file I/O) with a bounded queue
 * (503 past it), shares one check among identical concurrent logins, and
 * remembers successful logins for a few seconds so scripts sending HTTP
 * Basic on every request pay for one hash, not one per request. Everything
 * is in memory, per node, and bounded.
 */
export class LoginGuard {
  private readonly throttle: LoginThrottle;
  private readonly limit: ConcurrencyLimit;
  private readonly successes: LruMap<string, CachedLogin>;
  private readonly inFlight = new Map<string, Promise<Principal | undefined>>();
  /** Keys of remembered logins are HMACs under a key of this process: no plain hash of a password is kept. */
  private readonly cacheKey = randomBytes(32);
  private readonly now: () => number;

  constructor(
    private readonly authenticator: Authenticator,
    private readonly options: LoginGuardOptions,
  ) {
    this.now = options.now ?? Date.now;
    this.throttle = new LoginThrottle({
      failuresPerUser: options.failuresPerUser,
      failuresPerAddress: options.failuresPerAddress,
      windowSeconds: options.windowSeconds,
      maxEntries: options.maxEntries,
      now: this.now,
    });
    this.limit = new ConcurrencyLimit(options.maxConcurrentChecks, options.queueSize);
    this.successes = new LruMap(options.maxEntries ?? 10_000);
  }

  /**
   * The principal for these credentials. Throws `UNAUTHORIZED` when they are
   * wrong, `TOO_MANY_REQUESTS` when the user or address is throttled,
   * `UNAVAILABLE` when too many checks are waiting. With `remembered`, a
   * success of the last `successCacheSeconds` is taken without a check
   * (HTTP Basic on every request); logins pass `false`, so a password change
   * applies to them at once.
   */
  async check(
    user: string,
    password: string,
    clientAddress: string | undefined,
    { remembered = true }: { remembered?: boolean } = {},
  ): Promise<Principal> {
    // Throttle first: answering from what was remembered while throttled
    // would let a guesser test passwords against it for free.
    const retryAfter = this.throttle.retryAfterSeconds(user, clientAddress);
    if (retryAfter !== undefined) return this.refuse(retryAfter);
    const key = this.credentialKey(user, password);
    const cached = remembered ? this.successes.get(key) : undefined;
    if (cached && cached.expires > this.now()) return cached.principal;

    const flightKey = `${key}|${clientAddress ?? ''}`;
    let check = this.inFlight.get(flightKey);
    if (!check) {
      const admission = this.throttle.begin(user, clientAddress);
      if (admission.attempt === undefined) return this.refuse(admission.retryAfterSeconds);
      check = this.runCheck(user, password, admission.attempt, key).finally(() => this.inFlight.delete(flightKey));
      this.inFlight.set(flightKey, check);
    }
    const principal = await check;
    if (!principal) throw new ConanError('UNAUTHORIZED', 'Wrong user or password');
    return principal;
  }

  /**
   * Like {@link check} for credentials that `verify` checks itself (API
   * tokens): throttled per `user` (a throttling key) and address the same
   * way, and a wrong one is a failed login, but cheap, so neither queued
   * behind password hashes nor remembered (a revoked token fails at once).
   * Concurrent checks of one `credential` from one address share one
   * `verify` and count as one attempt: checks still running count as
   * failures, and a CI job sending its token on 20 parallel requests (each
   * waiting for a directory look-up) must not throttle itself.
   */
  async checkWith(
    user: string,
    clientAddress: string | undefined,
    verify: () => Promise<Principal | undefined>,
    failure = 'Wrong user or password',
    credential?: string,
  ): Promise<Principal> {
    const retryAfter = this.throttle.retryAfterSeconds(user, clientAddress);
    if (retryAfter !== undefined) return this.refuse(retryAfter);
    const flightKey = credential === undefined ? undefined : `with|${this.credentialKey(user, credential)}|${clientAddress ?? ''}`;
    let check = flightKey === undefined ? undefined : this.inFlight.get(flightKey);
    if (!check) {
      const admission = this.throttle.begin(user, clientAddress);
      if (admission.attempt === undefined) return this.refuse(admission.retryAfterSeconds);
      const { attempt } = admission;
      check = verify().then(
        (principal) => (attempt.end(principal ? 'success' : 'failure'), principal),
        (error: unknown) => {
          attempt.end('aborted');
          throw error;
        },
      );
      if (flightKey !== undefined) {
        this.inFlight.set(flightKey, check);
        check.finally(() => this.inFlight.delete(flightKey)).catch(() => {});
      }
    }
    const principal = await check;
    if (!principal) throw new ConanError('UNAUTHORIZED', failure);
    return principal;
  }

  /** Names `user` + `secret` in the in-memory maps: an HMAC under this process's key, never the secret or a plain hash of it. */
  private credentialKey(user: string, secret: string): string {
    return createHmac('sha256', this.cacheKey).update(`${user.length}:${user}`).update(secret).digest('base64url');
  }

  private async refuse(retryAfterSeconds: number): Promise<never> {
    await sleep(this.options.throttledAnswerDelayMs ?? 1000);
    throw tooManyFailures(retryAfterSeconds);
  }

  private async runCheck(user: string, password: string, attempt: LoginAttempt, key: string) {
    let principal: Principal | undefined;
    try {
      principal = await this.limit.run(() => this.authenticator.authenticate(user, password));
    } catch (error) {
      attempt.end('aborted');
      if (error instanceof QueueFullError) {
        throw new ConanError('UNAVAILABLE', 'Too many logins in progress: retry shortly', { 'retry-after': '1' });
      }
      throw error;
    }
    attempt.end(principal ? 'success' : 'failure');
    if (!principal) return undefined;
    if (this.options.successCacheSeconds > 0) {
      this.successes.set(key, { principal, expires: this.now() + this.options.successCacheSeconds * 1000 });
    }
    return principal;
  }
}
