import { resolve } from 'node:path';
import type { LdapAuthenticator } from '@cimmeria/auth-ldap';
import { readConfigText } from './config/layer.js';
import type { CimmeriaConfig } from './config/schema.js';

/**
 * The directory authenticator of the `ldap` setting. The CA file is read
 * now, so a wrong path stops the start instead of failing every login.
 */
export async function ldapAuthenticator(
  ldap: NonNullable<CimmeriaConfig['ldap']>,
  onError: (error: unknown) => void,
): Promise<LdapAuthenticator> {
  const tlsCa = ldap.tlsCaFile === undefined ? undefined : await readConfigText(resolve(ldap.tlsCaFile), 'the LDAP CA file (ldap.tlsCaFile)');
  // Loaded only when a directory is configured.
  const { LdapAuthenticator } = await import('@cimmeria/auth-ldap');
  return new LdapAuthenticator({
    url: ldap.url,
    bindDn: ldap.bindDn,
    bindPassword: ldap.bindPassword,
    searchBase: ldap.searchBase,
    searchFilter: ldap.searchFilter,
    startTls: ldap.startTls,
    tlsCa,
    tlsRejectUnauthorized: ldap.tlsRejectUnauthorized,
    timeoutMs: ldap.timeoutMs,
    groups: ldap.groups,
    onError,
  });
}
