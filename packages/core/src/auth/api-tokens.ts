import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { ApiTokenRecord, ApiTokenScope, AuditActor, MetadataStore } from '../metadata/metadata-store.js';
import type { RecipeRef } from '../reference/references.js';
import { ConanError } from '../service/errors.js';
import { UserLookupUnsupportedError } from './authenticator.js';
import { compileRecipePattern, type Permission } from './authorizer.js';
import { LruMap } from './lru-map.js';
import { PerUserCache } from './per-user-cache.js';
import type { ApiTokenGrant, Principal } from './principal.js';

/** Every API token starts with this, so leaked tokens can be searched for (e.g. by secret scanners). */
export const API_TOKEN_PREFIX = 'cim_';

/** Scopes, weakest first: a scope allows itself and every weaker one. */
export const API_TOKEN_SCOPES: readonly ApiTokenScope[] = ['read', 'write', 'delete'];

/** Longest token name and pattern accepted. */
export const MAX_API_TOKEN_NAME_LENGTH = 255;
export const MAX_API_TOKEN_PATTERN_LENGTH = 512;

// Fixed-length parts: the check is linear and cannot backtrack.
const TOKEN_SYNTAX = /^cim_([0-9a-f]{16})_([A-Za-z0-9_-]{43})$/;

/** How often, at most, one node records a use of one token (`last used` is approximate). */
const TOUCH_EVERY_MS = 60_000;

/** The id and secret of a string shaped like an API token, or `undefined`. */
export function parseApiToken(text: string): { id: string; secret: string } | undefined {
  if (!text.startsWith(API_TOKEN_PREFIX) || text.length > 64) return undefined;
  const match = TOKEN_SYNTAX.exec(text);
  return match ? { id: match[1]!, secret: match[2]! } : undefined;
}

const sha256 = (secret: string) => createHash('sha256').update(secret).digest('hex');

/**
 * Whether an API token grant allows `permission` on `ref`: the scope must
 * reach it and the pattern (if any) must match. It only narrows: the user's
 * own permissions are checked as well.
 */
export function grantAllows(grant: ApiTokenGrant, permission: Permission, ref: RecipeRef): boolean {
  if (API_TOKEN_SCOPES.indexOf(grant.scope) < API_TOKEN_SCOPES.indexOf(permission)) return false;
  return grant.pattern === undefined || compileRecipePattern(grant.pattern)(ref);
}

/**
 * Parses a lifetime such as `90d`, `12h` or `never` into seconds
 * (`undefined` for never). Throws `BAD_REQUEST` otherwise; at most 100 years.
 */
export function parseTokenLifetime(text: string): number | undefined {
  if (text === 'never') return undefined;
  const match = /^([1-9][0-9]{0,5})([dh])$/.exec(text);
  if (!match) throw new ConanError('BAD_REQUEST', "Token lifetime must look like '90d', '12h' or 'never'");
  const seconds = Number(match[1]) * (match[2] === 'd' ? 86_400 : 3_600);
  if (seconds > 100 * 365 * 86_400) throw new ConanError('BAD_REQUEST', 'Token lifetime is at most 100 years');
  return seconds;
}

/** Options of {@link ApiTokens.create}. */
export interface CreateApiTokenOptions {
  /** A label for people (default `token`). */
  name?: string;
  /** Default `write`. */
  scope?: ApiTokenScope;
  /** Recipe pattern (`zlib/*@*\/*`) the token is limited to; all recipes when absent. */
  pattern?: string;
  /** Lifetime in seconds; never expires when absent. */
  expiresInSeconds?: number;
  /** Who creates it, for the audit trail. */
  actor?: AuditActor;
}

/** Options of {@link ApiTokens}. */
export interface ApiTokensOptions {
  /**
   * Who a user is now, without their password (see
   * `Authenticator.lookupUser`; `userLookupOf(authenticator)` gives it for
   * any authenticator): `undefined` once the user is removed. Tokens carry
   * the groups it answers at each check, and are only created for users it
   * knows. Without it every user is taken to exist, with no groups.
   */
  lookupUser?: (user: string) => Promise<Principal | undefined>;
  /** How long an answer of `lookupUser` is relied on, in seconds (`credentialCacheSeconds`). Default 5. */
  cacheSeconds?: number;
  /** Most users whose answers are cached. Default 10,000. */
  maxCachedUsers?: number;
}

/** A newly created token: `token` is the secret, shown this once and never again. */
export interface CreatedApiToken {
  token: string;
  record: ApiTokenRecord;
}

/**
 * Long-lived API tokens (for CI): created for a user, stored as a sha256 of
 * their secret, narrowed by a scope and a recipe pattern. Every use looks
 * the token up in the metadata store (one primary-key read, no cache), so
 * a revoked token fails on every node at its next use. The token's user is
 * looked up (cached for `cacheSeconds`): a removed user's tokens fail, and
 * the token has the user's current groups.
 */
export class ApiTokens {
  private readonly touched = new LruMap<string, number>(10_000);
  private readonly users: PerUserCache<Principal | undefined> | undefined;
  private readonly lookupUser: ((user: string) => Promise<Principal | undefined>) | undefined;

  /** @param metadata where tokens are kept. */
  constructor(
    private readonly metadata: MetadataStore,
    options: ApiTokensOptions = {},
  ) {
    const { lookupUser } = options;
    this.lookupUser = lookupUser;
    this.users = lookupUser
      ? new PerUserCache(lookupUser, { maxAgeSeconds: options.cacheSeconds ?? 5, maxEntries: options.maxCachedUsers ?? 10_000 })
      : undefined;
  }

  /**
   * Creates a token for `user`; throws `BAD_REQUEST` for a bad name or
   * pattern or an unknown user, `FORBIDDEN` ({@link UserLookupUnsupportedError})
   * when the user's tokens could not be checked, `UNAVAILABLE` when the
   * user directory does not answer.
   */
  async create(user: string, options: CreateApiTokenOptions = {}): Promise<CreatedApiToken> {
    const name = options.name ?? 'token';
    if (name.length === 0 || name.length > MAX_API_TOKEN_NAME_LENGTH) {
      throw new ConanError('BAD_REQUEST', `Token name must be 1 to ${MAX_API_TOKEN_NAME_LENGTH} characters`);
    }
    const scope = options.scope ?? 'write';
    if (!API_TOKEN_SCOPES.includes(scope)) throw new ConanError('BAD_REQUEST', 'Token scope must be read, write or delete');
    const { pattern } = options;
    if (pattern !== undefined && (pattern.length === 0 || pattern.length > MAX_API_TOKEN_PATTERN_LENGTH || !pattern.includes('/'))) {
      throw new ConanError('BAD_REQUEST', "Token pattern must look like 'name/version@user/channel' (fnmatch parts)");
    }
    const { expiresInSeconds } = options;
    if (expiresInSeconds !== undefined && !(Number.isFinite(expiresInSeconds) && expiresInSeconds > 0)) {
      throw new ConanError('BAD_REQUEST', 'Token lifetime must be a positive number of seconds');
    }
    // Asked now (and not cached for checks): a token of a user that cannot be checked would be refused at every use.
    if (this.lookupUser && (await this.lookupUser(user)) === undefined) throw new ConanError('BAD_REQUEST', `No user '${user}'`);
    const id = randomBytes(8).toString('hex');
    const secret = randomBytes(32).toString('base64url');
    const record = await this.metadata.createApiToken({
      id,
      user,
      name,
      secretSha256: sha256(secret),
      scope,
      ...(pattern === undefined ? {} : { pattern }),
      ...(expiresInSeconds === undefined ? {} : { expiresInSeconds }),
    }, options.actor);
    return { token: `${API_TOKEN_PREFIX}${id}_${secret}`, record };
  }

  /** Tokens of `user`, or of everyone without it. */
  list(user?: string): Promise<ApiTokenRecord[]> {
    return this.metadata.listApiTokens(user);
  }

  /** Revokes a token (only `user`'s, when given). `false` when there was none. `actor` is recorded in the audit trail. */
  revoke(id: string, user?: string, actor?: AuditActor): Promise<boolean> {
    return this.metadata.revokeApiToken(id, user, actor);
  }

  /**
   * The principal of a token's secret, or `undefined` when it is not a
   * valid token (of `user`, when given): unknown, revoked, expired, wrong
   * secret, or its user removed. Throws `UNAVAILABLE` when the user
   * directory does not answer: neither a grant nor a refusal.
   */
  async verify(token: string, user?: string): Promise<Principal | undefined> {
    const parsed = parseApiToken(token);
    if (!parsed) return undefined;
    const record = await this.metadata.apiToken(parsed.id);
    if (!record) return undefined;
    const expected = Buffer.from(record.secretSha256, 'hex');
    const actual = Buffer.from(sha256(parsed.secret), 'hex');
    if (expected.length !== actual.length || !timingSafeEqual(expected, actual)) return undefined;
    return this.principalOf(record, user);
  }

  /**
   * The principal of a session made from token `id` for `user`, or
   * `undefined` once the token is revoked or expired or the user removed.
   */
  async session(id: string, user: string): Promise<Principal | undefined> {
    const record = await this.metadata.apiToken(id);
    return record ? this.principalOf(record, user) : undefined;
  }

  private async principalOf(record: ApiTokenRecord, user: string | undefined): Promise<Principal | undefined> {
    if (user !== undefined && record.user !== user) return undefined;
    if (record.expiresAtMicros !== undefined && record.expiresAtMicros <= Date.now() * 1000) return undefined;
    const current = await this.currentUser(record.user);
    if (!current) return undefined;
    this.noteUse(record.id);
    const apiToken: ApiTokenGrant = {
      id: record.id,
      scope: record.scope,
      ...(record.pattern === undefined ? {} : { pattern: record.pattern }),
    };
    // The user's groups as of now: leaving a group takes its permissions from the token too.
    const groups = current.groups && current.groups.length > 0 ? { groups: current.groups } : {};
    return { name: record.user, ...groups, apiToken };
  }

  /** The token user as known at most `cacheSeconds` ago; `undefined` when gone or not checkable. */
  private async currentUser(user: string): Promise<Principal | undefined> {
    if (!this.users) return { name: user };
    try {
      return await this.users.current(user);
    } catch (error) {
      if (error instanceof UserLookupUnsupportedError) return undefined;
      throw error;
    }
  }

  /** Records a use now and then: a write per request would cost more than the answer. */
  private noteUse(id: string): void {
    const now = Date.now();
    const last = this.touched.get(id);
    if (last !== undefined && now - last < TOUCH_EVERY_MS) return;
    this.touched.set(id, now);
    // Best effort: a failed write only leaves `last used` older.
    this.metadata.touchApiToken(id).catch(() => undefined);
  }
}
