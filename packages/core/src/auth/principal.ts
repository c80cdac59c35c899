/** Who is calling. `undefined` everywhere means an anonymous caller. */
export interface Principal {
  /** The user name, as shown by `check_credentials` and matched by permission rules. */
  readonly name: string;
  /** The API token the caller authenticated with, if any (recorded in the audit trail). */
  readonly tokenId?: string;
}
