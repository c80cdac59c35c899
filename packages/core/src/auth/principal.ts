import type { Permission } from './authorizer.js';

/** Who is calling. `undefined` everywhere means an anonymous caller. */
export interface Principal {
  /** The user name, as shown by `check_credentials` and matched by permission rules. */
  readonly name: string;
  /**
   * Extra names permission rules may list to grant this principal access,
   * such as `@conan-writers` for members of a directory group (see
   * `@cimmeria/auth-ldap`). Session tokens carry them, so they hold for the
   * token's lifetime; API tokens take the user's groups as of each check.
   */
  readonly groups?: readonly string[];
  /**
   * Set when the caller authenticated with an API token (directly, or with
   * a session made from one): what the user may do is narrowed by it.
   */
  readonly apiToken?: ApiTokenGrant;
}

/** What an API token narrows its user's permissions to. */
export interface ApiTokenGrant {
  readonly id: string;
  /** The most it allows: `read` < `write` < `delete`. */
  readonly scope: Permission;
  /** Recipe pattern it is limited to (`name/version@user/channel`), or all recipes when absent. */
  readonly pattern?: string;
}
