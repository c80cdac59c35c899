import { isIP } from 'node:net';
import type { ConnectionOptions } from 'node:tls';
import { ConanError, UserLookupUnsupportedError, withinDeadline, type Authenticator, type Principal } from '@cimmeria/core';
import { Client, InvalidCredentialsError, SizeLimitExceededError, type Entry } from 'ldapts';
import { escapeDnValue, escapeFilterValue, fillTemplate } from './escape.js';

/** Group look-up and mapping of {@link LdapAuthenticatorOptions}. */
export interface LdapGroupOptions {
  /** Where group entries are searched. */
  searchBase: string;
  /**
   * Filter finding the user's groups; `{dn}` is the user's DN and `{user}`
   * the login name, both escaped (RFC 4515). Default:
   * `(|(member={dn})(uniqueMember={dn})(memberUid={user}))`.
   */
  searchFilter?: string;
  /**
   * Group DN or `cn` -> the names permission rules list for its members,
   * each starting with `@` (e.g. `{ "conan-writers": ["@conan-writers"] }`).
   * Groups not listed here grant nothing.
   */
  map: Record<string, string[]>;
}

/** Options of {@link LdapAuthenticator}. */
export interface LdapAuthenticatorOptions {
  /** `ldap://host[:port]` or `ldaps://host[:port]`. */
  url: string;
  /**
   * Without `searchBase`: the DN users bind as, `{user}` standing for the
   * login name (escaped, RFC 4514), e.g. `uid={user},ou=people,dc=example,dc=org`.
   * With `searchBase`: the service account that searches (anonymous when unset).
   */
  bindDn?: string;
  /** Password of the service account `bindDn` (search mode only). */
  bindPassword?: string;
  /** Search mode: where the user's entry is looked up before binding as it. */
  searchBase?: string;
  /**
   * Search mode: filter finding the user, `{user}` escaped (RFC 4515).
   * Default `(uid={user})`. Logins and API token checks both use it, so a
   * filter that leaves out accounts (e.g. `(&(uid={user})(!(employeeType=disabled)))`)
   * disables their tokens too; accounts marked disabled the usual ways
   * (Active Directory, 389 Directory Server, OpenLDAP ppolicy) are refused without it.
   */
  searchFilter?: string;
  /** Upgrade `ldap://` connections with StartTLS before any bind. */
  startTls?: boolean;
  /** PEM certificates to trust for `ldaps://` and StartTLS (instead of Node's default CAs). */
  tlsCa?: string | Buffer;
  /** Check the server's certificate (default `true`). */
  tlsRejectUnauthorized?: boolean;
  /** Deadline of a whole login or user look-up (connecting, binds, searches), in ms. Default 5000. */
  timeoutMs?: number;
  /** Optional group -> permission-name mapping. */
  groups?: LdapGroupOptions;
  /** Told about directory failures (unreachable, timed out, unexpected answers); the caller gets 503. */
  onError?: (error: unknown) => void;
}

/** Longest login name sent to the directory. */
const MAX_USER_LENGTH = 256;
const DEFAULT_TIMEOUT_MS = 5000;
/** Most group entries read per login. */
const MAX_GROUPS = 1000;
const DEFAULT_GROUP_FILTER = '(|(member={dn})(uniqueMember={dn})(memberUid={user}))';

/** '@' names are the groups' namespace in permission rules: no user may take one. */
const acceptableName = (user: string) => user !== '' && user.length <= MAX_USER_LENGTH && !user.startsWith('@');

/**
 * Attributes by which directories mark an account disabled: Active
 * Directory's userAccountControl (bit 2, ACCOUNTDISABLE), 389 Directory
 * Server / FreeIPA's nsAccountLock, OpenLDAP ppolicy's administrative lock
 * (pwdAccountLockedTime 000001010000Z; a timed lockout after failed binds
 * is not a disabled account). Binds of such accounts fail anyway; a
 * look-up without a password has to read them.
 */
const DISABLED_ATTRIBUTES = ['userAccountControl', 'nsAccountLock', 'pwdAccountLockedTime'];
const ACCOUNTDISABLE = 2;

function isDisabled(entry: Record<string, unknown>): boolean {
  const values = new Map(Object.entries(entry).map(([key, value]) => [key.toLowerCase(), ([] as unknown[]).concat(value).map(String)]));
  const control = Number(values.get('useraccountcontrol')?.[0]);
  if (Number.isInteger(control) && (control & ACCOUNTDISABLE) !== 0) return true;
  if (values.get('nsaccountlock')?.[0]?.toLowerCase() === 'true') return true;
  return values.get('pwdaccountlockedtime')?.[0] === '000001010000Z';
}

/** Why {@link LdapAuthenticator.lookupUser} cannot work with a bind DN template: it names the settings to add. */
export const LDAP_NO_LOOKUP_MESSAGE =
  'API tokens of directory users need the directory searched without their password, which a bind DN template cannot do: ' +
  'set ldap.searchBase (search mode), with ldap.bindDn + ldap.bindPassword of a service account unless the directory allows anonymous search';

class LdapDeadlineError extends Error {
  constructor(ms: number) {
    super(`LDAP call took longer than ${ms} ms`);
    this.name = 'LdapDeadlineError';
  }
}

/**
 * Authenticates users against an LDAP directory: binds as the user (by a DN
 * template, or after finding the user's entry with a search) and, when
 * `groups` is set, gives the principal the names its groups map to.
 *
 * Wrong credentials resolve to `undefined` (401); an unreachable, slow or
 * failing directory throws `UNAVAILABLE` (503), never a 500. Empty passwords
 * are refused without a bind: LDAP takes them as an anonymous bind, which
 * would succeed for anyone.
 *
 * `lookupUser` (search mode only: it searches as the service account, or
 * anonymously) finds a user without their password, for API tokens: a user
 * gone from the directory, disabled there, or no longer matched by `searchFilter`, has their
 * tokens refused, and tokens carry the user's groups as of each check. With a
 * bind DN template it throws {@link UserLookupUnsupportedError}
 * ({@link LDAP_NO_LOOKUP_MESSAGE}), so no token is created for directory users.
 *
 * It has no `credentialVersion`: the directory cannot say cheaply when a
 * password changed, so session tokens of directory users live their full
 * lifetime (keep `tokenExpiresMinutes` short where that matters).
 */
export class LdapAuthenticator implements Authenticator {
  private readonly timeoutMs: number;
  private readonly tlsOptions: ConnectionOptions;

  constructor(private readonly options: LdapAuthenticatorOptions) {
    if (!/^ldaps?:\/\//i.test(options.url)) throw new TypeError('LDAP url must start with ldap:// or ldaps://');
    if (options.searchBase === undefined && !options.bindDn?.includes('{user}')) {
      throw new TypeError('LDAP needs either searchBase (+ searchFilter) or a bindDn template containing {user}');
    }
    for (const names of Object.values(options.groups?.map ?? {})) {
      for (const name of names) if (!name.startsWith('@')) throw new TypeError(`LDAP group names must start with '@': ${name}`);
    }
    this.timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    // The name the certificate is checked against: StartTLS upgrades a bare socket, which knows none.
    const host = new URL(options.url).hostname.replace(/^\[(.*)\]$/, '$1');
    this.tlsOptions = { rejectUnauthorized: options.tlsRejectUnauthorized ?? true, host };
    if (isIP(host) === 0) this.tlsOptions.servername = host;
    if (options.tlsCa !== undefined) this.tlsOptions.ca = options.tlsCa;
  }

  async authenticate(user: string, password: string): Promise<Principal | undefined> {
    if (password === '' || !acceptableName(user)) return undefined;
    return this.withDirectory((client) => this.login(client, user, password));
  }

  /**
   * The user as the directory has it now, found without their password (as
   * the service account, or anonymously): with its mapped groups, or
   * `undefined` when no entry (or several) matches `searchFilter` or the
   * entry is marked disabled (see `DISABLED_ATTRIBUTES`). Throws
   * `UNAVAILABLE` when the directory does not answer in time, and
   * {@link UserLookupUnsupportedError} with a bind DN template.
   */
  async lookupUser(user: string): Promise<Principal | undefined> {
    if (!acceptableName(user)) return undefined;
    if (this.options.searchBase === undefined) throw new UserLookupUnsupportedError(LDAP_NO_LOOKUP_MESSAGE);
    return this.withDirectory(async (client) => {
      const entry = await this.findUser(client, user, DISABLED_ATTRIBUTES);
      return entry === undefined || isDisabled(entry) ? undefined : this.principal(client, user, entry.dn);
    });
  }

  /**
   * Runs `work` on a fresh connection (upgraded with StartTLS when set up so)
   * within the deadline; directory failures become `UNAVAILABLE`.
   */
  private async withDirectory<T>(work: (client: Client) => Promise<T>): Promise<T> {
    const client = new Client({
      url: this.options.url,
      timeout: this.timeoutMs,
      connectTimeout: this.timeoutMs,
      // ldapts speaks TLS from the start whenever tlsOptions is given: only for ldaps://.
      ...(/^ldaps:/i.test(this.options.url) ? { tlsOptions: this.tlsOptions } : {}),
      strictDN: false,
    });
    try {
      const outcome = await withinDeadline(this.timeoutMs, async () => {
        if (this.options.startTls) await client.startTLS(this.tlsOptions);
        return work(client);
      });
      if (outcome === 'timeout') throw new LdapDeadlineError(this.timeoutMs);
      return outcome.value;
    } catch (error) {
      if (error instanceof ConanError) throw error;
      this.options.onError?.(error);
      throw new ConanError('UNAVAILABLE', 'The user directory is unavailable, retry shortly');
    } finally {
      client.unbind().catch(() => {});
    }
  }

  private async login(client: Client, user: string, password: string): Promise<Principal | undefined> {
    const dn = await this.userDn(client, user);
    if (dn === undefined) return undefined;
    try {
      await client.bind(dn, password);
    } catch (error) {
      if (error instanceof InvalidCredentialsError) return undefined;
      throw error;
    }
    return this.principal(client, user, dn);
  }

  private async principal(client: Client, user: string, dn: string): Promise<Principal> {
    const groups = await this.groupNames(client, user, dn);
    return groups.length > 0 ? { name: user, groups } : { name: user };
  }

  /** The DN to bind as: from the template, or found by a search (`undefined`: no such user, or not one). */
  private async userDn(client: Client, user: string): Promise<string | undefined> {
    const { searchBase, bindDn } = this.options;
    if (searchBase === undefined) return fillTemplate(bindDn!, user, escapeDnValue);
    return (await this.findUser(client, user, ['dn']))?.dn;
  }

  /** The user's entry found under `searchBase` with `attributes` (`undefined`: none, or several). */
  private async findUser(client: Client, user: string, attributes: string[]): Promise<Entry | undefined> {
    const { searchBase, searchFilter = '(uid={user})' } = this.options;
    await this.bindServiceAccount(client);
    try {
      const { searchEntries } = await client.search(searchBase!, {
        scope: 'sub',
        filter: fillTemplate(searchFilter, user, escapeFilterValue),
        attributes,
        sizeLimit: 2,
      });
      return searchEntries.length === 1 ? searchEntries[0] : undefined;
    } catch (error) {
      // Several entries match: whose password would it be? Nobody's.
      if (error instanceof SizeLimitExceededError) return undefined;
      throw error;
    }
  }

  private async bindServiceAccount(client: Client): Promise<void> {
    const { bindDn, bindPassword } = this.options;
    // Never an unauthenticated bind with a DN: search anonymously instead.
    if (bindDn !== undefined && bindPassword) await client.bind(bindDn, bindPassword);
  }

  /** The permission names the user's groups map to (searched as the service account when there is one). */
  private async groupNames(client: Client, user: string, dn: string): Promise<string[]> {
    const groups = this.options.groups;
    if (!groups) return [];
    if (this.options.searchBase !== undefined && this.options.bindPassword) await this.bindServiceAccount(client);
    const filter = (groups.searchFilter ?? DEFAULT_GROUP_FILTER)
      .split('{dn}')
      .join(escapeFilterValue(dn))
      .split('{user}')
      .join(escapeFilterValue(user));
    // Bounded: a user in more groups than this is a directory to fix (the login gets 503 and the log says why).
    const { searchEntries } = await client.search(groups.searchBase, { scope: 'sub', filter, attributes: ['cn'], sizeLimit: MAX_GROUPS });
    const map = new Map(Object.entries(groups.map).map(([key, names]) => [key.toLowerCase(), names]));
    const names = new Set<string>();
    for (const entry of searchEntries) {
      const cns = ([] as unknown[]).concat(entry['cn'] ?? []).map(String);
      for (const key of [entry.dn, ...cns]) for (const name of map.get(key.toLowerCase()) ?? []) names.add(name);
    }
    return [...names].sort();
  }
}
