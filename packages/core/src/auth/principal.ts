/** Who is calling. `undefined` everywhere means an anonymous caller. */
export interface Principal {
  /** The user name, as shown by `check_credentials` and matched by permission rules. */
  readonly name: string;
  /**
   * Extra names permission rules may list to grant this principal access,
   * such as `@conan-writers` for members of a directory group (see
   * `@cimmeria/auth-ldap`). Session tokens carry them, so they hold for the
   * token's lifetime.
   */
  readonly groups?: readonly string[];
}
