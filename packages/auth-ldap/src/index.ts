export { LDAP_NO_LOOKUP_MESSAGE, LdapAuthenticator, type LdapAuthenticatorOptions, type LdapGroupOptions } from './ldap-authenticator.js';
export { escapeDnValue, escapeFilterValue } from './escape.js';
