import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { LDAP_ADMIN, LDAP_BASE } from './slapd.js';

const run = promisify(execFile);

/** Runs an OpenLDAP client tool (ldapadd, ldapmodify, ldapdelete) as the directory manager, with `input` on stdin. */
async function asAdmin(tool: string, url: string, args: string[], input?: string): Promise<void> {
  const child = run(tool, ['-x', '-H', url, '-D', LDAP_ADMIN.dn, '-w', LDAP_ADMIN.password, ...args]);
  if (input !== undefined) child.child.stdin!.end(input);
  await child;
}

/** Adds an inetOrgPerson `uid=<uid>,ou=people` with `password`, as an operator would with ldapadd. */
export function ldapAddUser(url: string, uid: string, password: string): Promise<void> {
  const ldif = `dn: uid=${uid},ou=people,${LDAP_BASE}\nobjectClass: inetOrgPerson\nuid: ${uid}\ncn: ${uid}\nsn: ${uid}\nuserPassword: ${password}\n`;
  return asAdmin('ldapadd', url, [], ldif);
}

/** Applies an LDIF change (ldapmodify). */
export function ldapModify(url: string, ldif: string): Promise<void> {
  return asAdmin('ldapmodify', url, [], ldif);
}

/** Deletes an entry (ldapdelete). */
export function ldapDelete(url: string, dn: string): Promise<void> {
  return asAdmin('ldapdelete', url, [dn]);
}

/** The DN of a user of `ou=people`. */
export const peopleDn = (uid: string) => `uid=${uid},ou=people,${LDAP_BASE}`;

/** Adds (or removes) `uid` as a member of group `cn=<group>,ou=groups`. */
export function ldapGroupMember(url: string, group: string, uid: string, change: 'add' | 'delete'): Promise<void> {
  return ldapModify(url, `dn: cn=${group},ou=groups,${LDAP_BASE}\nchangetype: modify\n${change}: member\nmember: ${peopleDn(uid)}\n`);
}
