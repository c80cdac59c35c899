/** Who is calling. `undefined` everywhere means an anonymous caller. */
export interface Principal {
  /** The user name, as shown by `check_credentials` and matched by permission rules. */
  readonly name: string;
}
