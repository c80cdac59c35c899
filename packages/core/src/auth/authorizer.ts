import { compileFnmatch } from '../reference/fnmatch.js';
import type { RecipeRef } from '../reference/references.js';
import type { Principal } from './principal.js';

/** What a caller wants to do with a recipe (and its packages). */
export type Permission = 'read' | 'write' | 'delete';

/**
 * Decides whether a principal may read, write or delete a recipe and its
 * binaries. Replace it to plug in your own access control.
 */
export interface Authorizer {
  /** `true` when allowed. `principal` is `undefined` for anonymous callers. */
  can(principal: Principal | undefined, permission: Permission, ref: RecipeRef): boolean | Promise<boolean>;
  /**
   * Optional: `true` only when `principal` may read every recipe there is
   * or could be. Listings (the web API's search and totals) then page in
   * the database instead of checking each recipe; without it, or when it
   * answers `false`, each recipe is checked with {@link can}.
   */
  readsAll?(principal: Principal | undefined): boolean | Promise<boolean>;
}

/** One `pattern: users` line of conan_server's `[read_permissions]` / `[write_permissions]`. */
export interface PermissionRule {
  /** `name/version@user/channel`, each part an fnmatch pattern (e.g. `zlib/1.*@acme/stable`). */
  pattern: string;
  /** User names; `*` means anyone, `?` any authenticated user. */
  users: string[];
}

/** Rules for {@link ConanServerAuthorizer}. Delete is allowed to whoever may write, as in conan_server. */
export interface PermissionRules {
  read?: PermissionRule[];
  write?: PermissionRule[];
}

/** Read for anyone, write for no one: the defaults until rules are configured. */
export const DEFAULT_READ_RULES: PermissionRule[] = [{ pattern: '*/*@*/*', users: ['*'] }];

interface CompiledRule {
  matches: (ref: RecipeRef) => boolean;
  users: string[];
  // The pattern matches every reference (any name, version, user and channel).
  universal: boolean;
}

/**
 * A matcher for a recipe pattern as permission rules and API tokens write
 * it (`name/version@user/channel`, each part an fnmatch pattern; no
 * `@user/channel` matches only references without them).
 */
export function compileRecipePattern(pattern: string): (ref: RecipeRef) => boolean {
  return compileRule({ pattern, users: [] }).matches;
}

function compileRule(rule: PermissionRule): CompiledRule {
  const [recipe = '', userChannel] = rule.pattern.split('@', 2);
  const [name = '', version = '*'] = recipe.split('/', 2);
  const [user, channel] = userChannel === undefined ? [undefined, undefined] : userChannel.split('/', 2);
  const part = (pattern: string | undefined) => {
    // A rule without @user/channel applies only to references without them, as in conan_server.
    if (pattern === undefined) return (value: string | undefined) => value === undefined;
    const compiled = compileFnmatch(pattern);
    // `_` stands for "no user/channel" on the wire and in rules.
    return (value: string | undefined) => compiled.matches(value ?? '_');
  };
  const checks = [part(name), part(version), part(user), part(user === undefined ? undefined : (channel ?? '*'))];
  return {
    matches: (ref) =>
      checks[0]!(ref.name) && checks[1]!(ref.version) && checks[2]!(ref.user) && checks[3]!(ref.channel),
    users: rule.users.map((u) => u.trim()).filter((u) => u !== ''),
    universal: name === '*' && version === '*' && user === '*' && (channel ?? '*') === '*',
  };
}

/**
 * conan_server's permission model: rules are tried in order and the first
 * whose pattern matches the recipe decides. If its users include the caller
 * (or `*`, or `?` for an authenticated caller) access is granted; otherwise
 * it is denied. No matching rule means denied.
 */
export class ConanServerAuthorizer implements Authorizer {
  private readonly read: CompiledRule[];
  private readonly write: CompiledRule[];

  constructor(rules: PermissionRules = {}) {
    this.read = (rules.read ?? DEFAULT_READ_RULES).map(compileRule);
    this.write = (rules.write ?? []).map(compileRule);
  }

  can(principal: Principal | undefined, permission: Permission, ref: RecipeRef): boolean {
    const rules = permission === 'read' ? this.read : this.write;
    const rule = rules.find((r) => r.matches(ref));
    return rule !== undefined && grants(rule, principal);
  }

  /** Every rule up to a universal one grants the principal: whatever rule decides, it reads. */
  readsAll(principal: Principal | undefined): boolean {
    for (const rule of this.read) {
      if (!grants(rule, principal)) return false;
      if (rule.universal) return true;
    }
    return false;
  }
}

function grants(rule: CompiledRule, principal: Principal | undefined): boolean {
  if (rule.users.includes('*')) return true;
  if (principal === undefined) return false;
  if (rule.users.includes('?') || rule.users.includes(principal.name)) return true;
  return principal.groups?.some((group) => rule.users.includes(group)) ?? false;
}
