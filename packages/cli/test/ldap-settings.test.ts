import { createHash } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { LDAP_BASE, LDAP_USERS, freePort, startSlapd, type Slapd } from '../../../test/support/slapd.js';
import { ConfigError, loadConfig } from './support/api.js';
import { login, startServe, type ServeProcess } from './support/cli-process.js';
import { CONAN, conanRecipe } from './support/conan-client.js';
import { tempDirEachTest } from './support/hooks.js';

// Issue 12, LDAP: `cimmeria serve` logs directory users in after static and
// database users, with the `ldap` setting (config file and CIMMERIA_LDAP_*).

const temp = tempDirEachTest('cimmeria-ldap-');
let slapd: Slapd;
beforeAll(async () => {
  slapd = await startSlapd();
});
afterAll(async () => {
  await slapd?.stop();
});
const servers: ServeProcess[] = [];
afterEach(async () => {
  for (const server of servers.splice(0)) await server.stop();
});

async function serve(config: object, env: Record<string, string> = {}): Promise<ServeProcess> {
  const file = join(temp.dir, 'cimmeria.json');
  await writeFile(file, JSON.stringify(config));
  const server = await startServe(['--port', '0', '--host', '127.0.0.1', '--data', join(temp.dir, 'data'), '--config', file], {
    env,
    timeoutMs: 30_000,
  });
  servers.push(server);
  return server;
}

describe('issue 12, LDAP settings of cimmeria serve', () => {

  it('LDAP: a url without bindDn template or searchBase is refused, naming the setting', async () => {
    const error = await loadConfig({ env: { CIMMERIA_LDAP_URL: 'ldap://ldap.example.org' } }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toContain('ldap.bindDn: expected a bind DN template with {user}');
  });

  it('LDAP: env variables fill the ldap object; group names must start with @', async () => {
    const config = await loadConfig({
      env: {
        CIMMERIA_LDAP_URL: 'ldap://ldap.example.org:389',
        CIMMERIA_LDAP_BIND_DN: 'uid={user},ou=people,dc=example,dc=org',
        CIMMERIA_LDAP_TIMEOUT_MS: '2500',
        CIMMERIA_LDAP_START_TLS: 'true',
      },
    });
    expect(config.ldap).toMatchObject({ url: 'ldap://ldap.example.org:389', timeoutMs: 2500, startTls: true, tlsRejectUnauthorized: true });
    const file = join(temp.dir, 'bad.json');
    await writeFile(file, JSON.stringify({ ldap: { groups: { searchBase: 'ou=groups', map: { writers: ['admin'] } } } }));
    const error = await loadConfig({
      configFile: file,
      env: { CIMMERIA_LDAP_URL: 'ldap://h', CIMMERIA_LDAP_BIND_DN: 'uid={user},dc=x' },
    }).catch((e: unknown) => e);
    expect((error as Error).message).toContain("ldap.groups.map.writers[0]: expected names starting with '@'");
  });

  it('LDAP: cimmeria serve logs a directory user in and lets its group write; database users keep working', async () => {
    const server = await serve(
      {
        users: {},
        ldap: {
          bindDn: `uid={user},ou=people,${LDAP_BASE}`,
          groups: { searchBase: `ou=groups,${LDAP_BASE}`, map: { 'conan-writers': '@conan-writers' } },
        },
        permissions: { write: [{ pattern: '*/*@*/*', users: ['@conan-writers'] }] },
      },
      { CIMMERIA_LDAP_URL: slapd.url },
    );
    const alice = await login(server.url, 'alice', LDAP_USERS.alice);
    expect(alice.status).toBe(200);
    expect((await login(server.url, 'alice', 'wrong')).status).toBe(401);
    const body = 'from conan import ConanFile\n';
    const upload = await fetch(`${server.url}/v2/conans/ldap/1.0/_/_/revisions/a1b2c3/files/conanfile.py`, {
      method: 'PUT',
      body,
      headers: { authorization: `Bearer ${alice.token}`, 'x-checksum-sha1': createHash('sha1').update(body).digest('hex') },
    });
    expect(upload.status).toBe(200);
    // The bootstrap admin (a database user) still logs in: the directory comes after.
    const password = /password[^\n]*?:\s*(\S+)/i.exec(server.stderr() + server.stdout())?.[1];
    expect(password).toBeDefined();
    expect((await login(server.url, 'admin', password!)).status).toBe(200);
  });

  it('LDAP: with the directory down, cimmeria serve answers 503 and logs why', async () => {
    const server = await serve({
      ldap: { url: `ldap://127.0.0.1:${await freePort()}`, bindDn: `uid={user},ou=people,${LDAP_BASE}`, timeoutMs: 1000 },
    });
    const response = await login(server.url, 'alice', LDAP_USERS.alice);
    expect(response.status).toBe(503);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(server.stdout()).toContain('LDAP directory failed during a login');
  });

  // Opt-in (CIMMERIA_CONAN_CLIENT): needs the conan client (2.x).
  it.skipIf(!CONAN)('LDAP: with the real conan client, a directory user in the writers group logs in and uploads; one outside it cannot', async () => {
    const server = await serve(
      {
        ldap: {
          bindDn: `uid={user},ou=people,${LDAP_BASE}`,
          groups: { searchBase: `ou=groups,${LDAP_BASE}`, map: { 'conan-writers': '@conan-writers' } },
        },
        permissions: { write: [{ pattern: '*/*@*/*', users: ['@conan-writers'] }] },
      },
      { CIMMERIA_LDAP_URL: slapd.url },
    );
    const { run, ok } = await conanRecipe(temp.dir, 'ldapdemo', 'LdapDemo');
    await ok('remote', 'add', 'cimmeria', server.url);
    await ok('export', '.');
    await ok('remote', 'login', 'cimmeria', 'bob', '-p', LDAP_USERS.bob);
    const refused = await run('upload', 'ldapdemo/1.0', '-r', 'cimmeria', '-c');
    expect(refused.code, refused.output).not.toBe(0);
    expect(refused.output).toMatch(/403|Forbidden|permission/i);
    expect((await login(server.url, 'alice', 'wrong')).status).toBe(401);
    await ok('remote', 'login', 'cimmeria', 'alice', '-p', LDAP_USERS.alice);
    await ok('upload', 'ldapdemo/1.0', '-r', 'cimmeria', '-c');
    const latest = await fetch(`${server.url}/v2/conans/ldapdemo/1.0/_/_/latest`);
    expect(latest.status).toBe(200);
  });
});
