import { createHash } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { LdapAuthenticator, type LdapAuthenticatorOptions } from '@cimmeria/auth-ldap';
import {
  ConanServerAuthorizer,
  PasswordAuthenticator,
  StaticUsers,
  UserLookupUnsupportedError,
  createConanHandler,
  firstOf,
  hashPassword,
  type Registry,
} from '@cimmeria/core';
import { serveNode } from '@cimmeria/core/node';
import { conformanceRegistry } from './support/conformance-registry.js';
import { ldapAddUser, ldapDelete, ldapGroupMember, ldapModify, peopleDn } from './support/ldap-admin.js';
import { basicAuth, login } from './support/login.js';
import { ACCOUNT_FLAGS_SCHEMA, LDAP_ADMIN, LDAP_BASE, LDAP_USERS, startSlapd, type Slapd } from './support/slapd.js';
import { startSwitchableProxy } from './support/switchable-proxy.js';

// Issue 12, API tokens of LDAP users: a directory user creates a token and
// uses it with exactly the permissions the directory gives them now. The
// token's user is looked up without a password (service account or
// anonymous search), cached for credentialCacheSeconds; the directory is a
// real OpenLDAP server (slapd) changed with ldapadd/ldapmodify/ldapdelete.

const CACHE_SECONDS = 1;
/** Longer than the cache period: by then every node has looked the user up again. */
const pastCachePeriod = () => new Promise((resolve) => setTimeout(resolve, CACHE_SECONDS * 1000 + 300));

const SERVICE_ACCOUNT = { bindDn: LDAP_ADMIN.dn, bindPassword: LDAP_ADMIN.password };
const SEARCH = { searchBase: `ou=people,${LDAP_BASE}`, searchFilter: '(uid={user})' };
const GROUPS = { searchBase: `ou=groups,${LDAP_BASE}`, map: { 'conan-writers': ['@conan-writers'] } };
const LOCAL_PASSWORD = 'local-pass';

let slapd: Slapd;
let localHash: string;
beforeAll(async () => {
  slapd = await startSlapd({ schema: ACCOUNT_FLAGS_SCHEMA });
  localHash = await hashPassword(LOCAL_PASSWORD);
});
afterAll(async () => {
  await slapd?.stop();
});

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** A server with a static user `local` and the directory's users after it; `@conan-writers` and `local` may write. */
async function serverWith(
  ldap: Partial<LdapAuthenticatorOptions>,
  credentialCacheSeconds = CACHE_SECONDS,
): Promise<{ url: string; registry: Registry }> {
  const { registry, dispose } = await conformanceRegistry({
    authenticator: firstOf(
      new PasswordAuthenticator(new StaticUsers({ local: localHash })),
      new LdapAuthenticator({ url: slapd.url, groups: GROUPS, onError: () => {}, ...ldap }),
    ),
    authorizer: new ConanServerAuthorizer({ write: [{ pattern: '*/*@*/*', users: ['@conan-writers', 'local'] }] }),
    credentialCacheSeconds,
  });
  const node = await serveNode(createConanHandler(registry), { host: '127.0.0.1', port: 0 });
  cleanups.push(async () => {
    await node.close();
    await dispose();
  });
  return { url: node.url, registry };
}

let uploads = 0;
/** Uploads a conanfile.py of a new revision; resolves with the status. */
async function upload(url: string, authorization: string): Promise<number> {
  const body = `from conan import ConanFile\n# ${++uploads}\n`;
  const revision = createHash('md5').update(body).digest('hex');
  const response = await fetch(`${url}/v2/conans/ldaptok/1.0/_/_/revisions/${revision}/files/conanfile.py`, {
    method: 'PUT',
    body,
    headers: { authorization, 'x-checksum-sha1': createHash('sha1').update(body).digest('hex') },
  });
  await response.arrayBuffer();
  return response.status;
}

const whoAmI = async (url: string, authorization: string) => {
  const response = await fetch(`${url}/v2/users/check_credentials`, { headers: { authorization } });
  return { status: response.status, body: await response.text() };
};

/** POST /api/v1/tokens as `authorization`. */
const createViaApi = (url: string, authorization: string, body: object = {}) =>
  fetch(`${url}/api/v1/tokens`, { method: 'POST', body: JSON.stringify(body), headers: { authorization, 'content-type': 'application/json' } });

let users = 0;
/** A fresh directory user (so tests do not share one), a member of conan-writers when `writer`. */
async function directoryUser(writer: boolean): Promise<{ user: string; password: string }> {
  const user = `tok${++users}`;
  const password = `${user}-pass`;
  await ldapAddUser(slapd.url, user, password);
  if (writer) await ldapGroupMember(slapd.url, 'conan-writers', user, 'add');
  return { user, password };
}

describe('issue 12, API tokens of LDAP users (slapd)', () => {
  it('a directory user creates a token (/api/v1/tokens, embedding API) and uploads with it: Basic, Bearer, and a session from conan remote login', async () => {
    const { url, registry } = await serverWith({ ...SEARCH, ...SERVICE_ACCOUNT });
    const { user, password } = await directoryUser(true);
    const created = await createViaApi(url, basicAuth(user, password), { name: 'ci' });
    expect(created.status).toBe(201);
    const { token } = (await created.json()) as { token: string };
    expect(await upload(url, basicAuth(user, token))).toBe(200);
    expect(await upload(url, `Bearer ${token}`)).toBe(200);
    const session = await login(url, user, token);
    expect(await upload(url, `Bearer ${session}`)).toBe(200);
    expect(await whoAmI(url, `Bearer ${token}`)).toEqual({ status: 200, body: user });

    // Narrowed by its scope like any token, though the user's group may write.
    const readOnly = await registry.service.apiTokens.create(user, { scope: 'read' });
    expect(await upload(url, `Bearer ${readOnly.token}`)).toBe(403);
    // A user outside the writers' group: the token has no more than its user.
    const outsider = await directoryUser(false);
    const { token: outsiderToken } = await registry.service.apiTokens.create(outsider.user);
    expect(await upload(url, `Bearer ${outsiderToken}`)).toBe(403);
    // Nobody by that name in the directory: no token.
    await expect(registry.service.apiTokens.create('nosuchuser')).rejects.toThrow("No user 'nosuchuser'");
  });

  it('a user deleted from the directory (ldapdelete) has their tokens and sessions refused within credentialCacheSeconds', async () => {
    const { url, registry } = await serverWith({ ...SEARCH, ...SERVICE_ACCOUNT });
    const { user, password } = await directoryUser(true);
    const { token } = await registry.service.apiTokens.create(user);
    const session = await login(url, user, token);
    expect(await upload(url, `Bearer ${token}`)).toBe(200);
    await ldapGroupMember(slapd.url, 'conan-writers', user, 'delete');
    await ldapDelete(slapd.url, peopleDn(user));
    await pastCachePeriod();
    expect((await whoAmI(url, `Bearer ${token}`)).status).toBe(401);
    expect((await whoAmI(url, basicAuth(user, token))).status).toBe(401);
    expect((await whoAmI(url, `Bearer ${session}`)).status).toBe(401);
    expect((await fetch(`${url}/v2/users/authenticate`, { headers: { authorization: basicAuth(user, password) } })).status).toBe(401);
  });

  it('removing the user from the writers\' group (ldapmodify) takes write away from their token within the cache period; read stays', async () => {
    const { url, registry } = await serverWith({ ...SEARCH, ...SERVICE_ACCOUNT });
    const { user } = await directoryUser(true);
    const { token } = await registry.service.apiTokens.create(user);
    const session = await login(url, user, token);
    expect(await upload(url, `Bearer ${token}`)).toBe(200);
    await ldapGroupMember(slapd.url, 'conan-writers', user, 'delete');
    await pastCachePeriod();
    expect(await upload(url, `Bearer ${token}`)).toBe(403);
    expect(await upload(url, basicAuth(user, token))).toBe(403);
    // The session was made while the user could write: it follows the directory too.
    expect(await upload(url, `Bearer ${session}`)).toBe(403);
    expect(await whoAmI(url, `Bearer ${token}`)).toEqual({ status: 200, body: user });
    const search = await fetch(`${url}/v2/conans/search?q=ldaptok`, { headers: { authorization: `Bearer ${token}` } });
    expect(search.status).toBe(200);
    // And back in the group, back to writing.
    await ldapGroupMember(slapd.url, 'conan-writers', user, 'add');
    await pastCachePeriod();
    expect(await upload(url, `Bearer ${token}`)).toBe(200);
  });

  it('anonymous search (no service account): tokens work, and a user the searchFilter leaves out (disabled) is refused', async () => {
    const { url } = await serverWith({ searchBase: `ou=people,${LDAP_BASE}`, searchFilter: '(&(uid={user})(!(employeeType=disabled)))' });
    const { user, password } = await directoryUser(true);
    const created = await createViaApi(url, basicAuth(user, password));
    expect(created.status).toBe(201);
    const { token } = (await created.json()) as { token: string };
    expect(await upload(url, `Bearer ${token}`)).toBe(200);
    await ldapModify(slapd.url, `dn: ${peopleDn(user)}\nchangetype: modify\nadd: employeeType\nemployeeType: disabled\n`);
    await pastCachePeriod();
    expect((await whoAmI(url, `Bearer ${token}`)).status).toBe(401);
  });

  it('accounts the directory marks disabled (Active Directory userAccountControl, 389 nsAccountLock) have their tokens refused', async () => {
    const { url, registry } = await serverWith({ ...SEARCH, ...SERVICE_ACCOUNT });
    const ad = await directoryUser(true);
    const ds = await directoryUser(true);
    const mark = (user: string, attribute: string, value: string) =>
      ldapModify(slapd.url, `dn: ${peopleDn(user)}\nchangetype: modify\nadd: objectClass\nobjectClass: cimmeriaTestAccountFlags\n-\nadd: ${attribute}\n${attribute}: ${value}\n`);
    const adToken = (await registry.service.apiTokens.create(ad.user)).token;
    const dsToken = (await registry.service.apiTokens.create(ds.user)).token;
    // NORMAL_ACCOUNT (512) alone is an enabled account.
    await mark(ad.user, 'userAccountControl', '512');
    await mark(ds.user, 'nsAccountLock', 'false');
    await pastCachePeriod();
    expect(await upload(url, `Bearer ${adToken}`)).toBe(200);
    expect(await upload(url, `Bearer ${dsToken}`)).toBe(200);
    // 514 = NORMAL_ACCOUNT | ACCOUNTDISABLE.
    await ldapModify(slapd.url, `dn: ${peopleDn(ad.user)}\nchangetype: modify\nreplace: userAccountControl\nuserAccountControl: 514\n`);
    await ldapModify(slapd.url, `dn: ${peopleDn(ds.user)}\nchangetype: modify\nreplace: nsAccountLock\nnsAccountLock: TRUE\n`);
    await pastCachePeriod();
    expect((await whoAmI(url, `Bearer ${adToken}`)).status).toBe(401);
    expect((await whoAmI(url, `Bearer ${dsToken}`)).status).toBe(401);
    await expect(registry.service.apiTokens.create(ad.user)).rejects.toThrow(`No user '${ad.user}'`);
  });

  it('the directory is asked once per user per cache period, however many requests (concurrent ones share the look-up)', async () => {
    const proxy = await startSwitchableProxy(Number(new URL(slapd.url).port));
    cleanups.push(proxy.stop);
    const { url, registry } = await serverWith({ url: proxy.url, ...SEARCH, ...SERVICE_ACCOUNT }, 60);
    const { user } = await directoryUser(true);
    const { token } = await registry.service.apiTokens.create(user);
    const before = proxy.connections;
    const statuses = await Promise.all(Array.from({ length: 20 }, () => whoAmI(url, `Bearer ${token}`)));
    expect(statuses.map((s) => s.status)).toEqual(Array(20).fill(200));
    for (let i = 0; i < 10; i++) expect(await upload(url, basicAuth(user, token))).toBe(200);
    expect(proxy.connections - before).toBe(1);
  });

  it('a directory that is down or hangs answers token checks 503 (not 401, not a grant); back up, the token works again', async () => {
    const port = Number(new URL(slapd.url).port);
    const proxy = await startSwitchableProxy(port);
    cleanups.push(proxy.stop);
    const { url, registry } = await serverWith({ url: proxy.url, ...SEARCH, ...SERVICE_ACCOUNT, timeoutMs: 500 });
    const { user } = await directoryUser(true);
    const { token } = await registry.service.apiTokens.create(user);
    const session = await login(url, user, token);
    expect(await upload(url, `Bearer ${token}`)).toBe(200);

    proxy.set('refuse');
    await pastCachePeriod();
    const refused = await fetch(`${url}/v2/users/check_credentials`, { headers: { authorization: `Bearer ${token}` } });
    expect(refused.status).toBe(503);
    expect(refused.headers.get('retry-after')).not.toBeNull();
    expect(await upload(url, basicAuth(user, token))).toBe(503);
    expect(await upload(url, `Bearer ${session}`)).toBe(503);
    expect((await fetch(`${url}/v2/users/authenticate`, { headers: { authorization: basicAuth(user, token) } })).status).toBe(503);
    // Creating one needs the directory too.
    await expect(registry.service.apiTokens.create(user)).rejects.toMatchObject({ code: 'UNAVAILABLE' });

    proxy.set('hang');
    const started = Date.now();
    expect(await upload(url, `Bearer ${token}`)).toBe(503);
    // Cut at the deadline (500 ms) instead of hanging; generous bound for a loaded machine.
    expect(Date.now() - started).toBeLessThan(5000);

    proxy.set('forward');
    expect(await upload(url, `Bearer ${token}`)).toBe(200);
    // The failures were not counted as wrong passwords: the token still logs in.
    expect(await login(url, user, token)).toMatch(/^ey/);
  });

  it('bind DN template without a search: creating a token for a directory user is refused, naming ldap.searchBase; static users still get tokens', async () => {
    const { url, registry } = await serverWith({ bindDn: `uid={user},ou=people,${LDAP_BASE}` });
    const refused = await createViaApi(url, basicAuth('alice', LDAP_USERS.alice));
    expect(refused.status).toBe(403);
    const message = await refused.text();
    expect(message).toContain('ldap.searchBase');
    expect(message).toContain('ldap.bindPassword');
    await expect(registry.service.apiTokens.create('alice')).rejects.toBeInstanceOf(UserLookupUnsupportedError);
    // Password logins of directory users are not affected.
    await login(url, 'alice', LDAP_USERS.alice);
    const local = await createViaApi(url, basicAuth('local', LOCAL_PASSWORD));
    expect(local.status).toBe(201);
    const { token } = (await local.json()) as { token: string };
    expect(await upload(url, `Bearer ${token}`)).toBe(200);
  });
});
