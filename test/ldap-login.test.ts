import { createHash } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { LdapAuthenticator, type LdapAuthenticatorOptions } from '@cimmeria/auth-ldap';
import { ConanServerAuthorizer, createConanHandler } from '@cimmeria/core';
import { serveNode } from '@cimmeria/core/node';
import { conformanceRegistry } from './support/conformance-registry.js';
import { basicAuth, login } from './support/login.js';
import { LDAP_ADMIN, LDAP_BASE, LDAP_USERS, freePort, startSilentServer, startSlapd, type Slapd } from './support/slapd.js';

// Issue 12, LDAP: users log in with their directory account, against a real
// OpenLDAP server (slapd) started by the test on a random loopback port.

const BIND_TEMPLATE = `uid={user},ou=people,${LDAP_BASE}`;
const GROUPS = { searchBase: `ou=groups,${LDAP_BASE}`, map: { 'conan-writers': ['@conan-writers'] } };

let slapd: Slapd;
beforeAll(async () => {
  slapd = await startSlapd();
});
afterAll(async () => {
  await slapd?.stop();
});

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** A server whose users come from the directory; `@conan-writers` may write. */
async function serverWith(options: Partial<LdapAuthenticatorOptions> & { url: string }) {
  const errors: unknown[] = [];
  const { registry, dispose } = await conformanceRegistry({
    authenticator: new LdapAuthenticator({ bindDn: BIND_TEMPLATE, groups: GROUPS, onError: (e) => errors.push(e), ...options }),
    authorizer: new ConanServerAuthorizer({ write: [{ pattern: '*/*@*/*', users: ['@conan-writers'] }] }),
  });
  const node = await serveNode(createConanHandler(registry), { host: '127.0.0.1', port: 0 });
  cleanups.push(async () => {
    await node.close();
    await dispose();
  });
  return { url: node.url, errors };
}

const authenticate = (url: string, user: string, password: string) =>
  fetch(`${url}/v2/users/authenticate`, { headers: { authorization: basicAuth(user, password) } });

/** Uploads a conanfile.py of a new revision with the session token `token`. */
async function uploadConanfile(url: string, token: string): Promise<number> {
  const body = 'from conan import ConanFile\n';
  const response = await fetch(`${url}/v2/conans/ldap/1.0/_/_/revisions/a1b2c3/files/conanfile.py`, {
    method: 'PUT',
    body,
    headers: { authorization: `Bearer ${token}`, 'x-checksum-sha1': createHash('sha1').update(body).digest('hex') },
  });
  await response.arrayBuffer();
  return response.status;
}

describe('issue 12, LDAP login against slapd', () => {
  it('LDAP: a directory user logs in with the directory password (bind DN template), and a wrong password is 401', async () => {
    const { url } = await serverWith({ url: slapd.url });
    const token = await login(url, 'alice', LDAP_USERS.alice);
    const check = await fetch(`${url}/v2/users/check_credentials`, { headers: { authorization: `Bearer ${token}` } });
    expect(check.status).toBe(200);
    expect((await authenticate(url, 'alice', 'wrong')).status).toBe(401);
    expect((await authenticate(url, 'nobody', 'whatever')).status).toBe(401);
  });

  it('LDAP: search mode with a service account finds the user and binds as it', async () => {
    const { url } = await serverWith({
      url: slapd.url,
      bindDn: LDAP_ADMIN.dn,
      bindPassword: LDAP_ADMIN.password,
      searchBase: `ou=people,${LDAP_BASE}`,
      searchFilter: '(uid={user})',
    });
    await login(url, 'bob', LDAP_USERS.bob);
    expect((await authenticate(url, 'bob', 'wrong')).status).toBe(401);
  });

  it('LDAP: a user name that the search finds twice logs no one in (401, not 503)', async () => {
    const { url } = await serverWith({ url: slapd.url, searchBase: LDAP_BASE });
    expect((await authenticate(url, 'alice', LDAP_USERS.alice)).status).toBe(401);
    await login(url, 'bob', LDAP_USERS.bob);
  });

  it('LDAP: a filter-injection user name (*)(uid=*) matches no one', async () => {
    const { url } = await serverWith({ url: slapd.url, searchBase: `ou=people,${LDAP_BASE}`, searchFilter: '(uid={user})' });
    // Unescaped, the filter (uid=*)(uid=*) would find every user; with alice's password it would then log in.
    expect((await authenticate(url, '*)(uid=*', LDAP_USERS.alice)).status).toBe(401);
    expect((await authenticate(url, '*', LDAP_USERS.alice)).status).toBe(401);
    expect((await authenticate(url, 'ali*', LDAP_USERS.alice)).status).toBe(401);
  });

  it('LDAP: an empty password never binds anonymously', async () => {
    // slapd here allows unauthenticated binds (allow bind_anon_dn): asked, it would say yes.
    const { url } = await serverWith({ url: slapd.url });
    expect((await authenticate(url, 'alice', '')).status).toBe(401);
  });

  it('LDAP: the group conan-writers, mapped to @conan-writers, grants write; a user outside it gets 403', async () => {
    const { url } = await serverWith({ url: slapd.url });
    expect(await uploadConanfile(url, await login(url, 'alice', LDAP_USERS.alice))).toBe(200);
    expect(await uploadConanfile(url, await login(url, 'bob', LDAP_USERS.bob))).toBe(403);
  });

  it('LDAP: a directory that is down answers 503, not 500', async () => {
    const { url, errors } = await serverWith({ url: `ldap://127.0.0.1:${await freePort()}` });
    const response = await authenticate(url, 'alice', LDAP_USERS.alice);
    expect(response.status).toBe(503);
    expect(response.headers.get('retry-after')).not.toBeNull();
    expect(errors.length).toBeGreaterThan(0);
  });

  it('LDAP: a directory that accepts but never answers is cut at the deadline with 503', async () => {
    const silent = await startSilentServer();
    cleanups.push(silent.stop);
    const { url } = await serverWith({ url: silent.url, timeoutMs: 500 });
    const started = Date.now();
    const response = await authenticate(url, 'alice', LDAP_USERS.alice);
    expect(response.status).toBe(503);
    // Within 3x the deadline instead of hanging.
    expect(Date.now() - started).toBeLessThan(1500);
  });

  describe('over TLS', () => {
    let tlsSlapd: Slapd;
    beforeAll(async () => {
      tlsSlapd = await startSlapd({ tls: true });
    });
    afterAll(async () => {
      await tlsSlapd?.stop();
    });

    it('LDAP: ldaps:// with the directory CA (tlsCa) logs in; without it the unknown certificate is refused with 503', async () => {
      const trusted = await serverWith({ url: tlsSlapd.ldapsUrl!, tlsCa: tlsSlapd.caPem });
      await login(trusted.url, 'alice', LDAP_USERS.alice);
      const untrusted = await serverWith({ url: tlsSlapd.ldapsUrl! });
      expect((await authenticate(untrusted.url, 'alice', LDAP_USERS.alice)).status).toBe(503);
      const unchecked = await serverWith({ url: tlsSlapd.ldapsUrl!, tlsRejectUnauthorized: false });
      await login(unchecked.url, 'alice', LDAP_USERS.alice);
    });

    it('LDAP: StartTLS on ldap:// with the directory CA logs in', async () => {
      const { url } = await serverWith({ url: tlsSlapd.url, startTls: true, tlsCa: tlsSlapd.caPem });
      await login(url, 'alice', LDAP_USERS.alice);
      expect((await authenticate(url, 'alice', 'wrong')).status).toBe(401);
    });
  });
});
