import { createHash } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { LDAP_ADMIN, LDAP_BASE, freePort, startSlapd, type Slapd } from '../../../test/support/slapd.js';
import { basic, login, runCli, startServe, type ServeProcess } from './support/cli-process.js';
import { CONAN, conanRecipe } from './support/conan-client.js';
import { tempDirEachTest } from './support/hooks.js';

// Issue 12: `cimmeria token create USER` for a directory user, as `cimmeria
// serve` would check the token: looked up in the directory without a password.

const temp = tempDirEachTest('cimmeria-ldap-token-');
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

const GROUPS = { searchBase: `ou=groups,${LDAP_BASE}`, map: { 'conan-writers': '@conan-writers' } };
const SEARCH_MODE = { bindDn: LDAP_ADMIN.dn, bindPassword: LDAP_ADMIN.password, searchBase: `ou=people,${LDAP_BASE}`, groups: GROUPS };

async function writeConfig(ldap: object): Promise<string> {
  const file = join(temp.dir, 'cimmeria.json');
  await writeFile(file, JSON.stringify({ ldap, permissions: { write: [{ pattern: '*/*@*/*', users: ['@conan-writers'] }] } }));
  return file;
}

const token = (config: string, ...args: string[]) =>
  runCli(['token', ...args, '--data', join(temp.dir, 'data'), '--config', config], { env: { CIMMERIA_LDAP_URL: slapd.url } });

describe('issue 12: cimmeria token create for LDAP users', () => {
  it('search mode: creates a token for a directory user that cimmeria serve accepts with the group permissions; unknown names are refused', async () => {
    const config = await writeConfig(SEARCH_MODE);
    const created = await token(config, 'create', 'alice', '--name', 'ci');
    expect(created.code, created.stderr).toBe(0);
    const secret = created.stdout.trim();
    expect(secret).toMatch(/^cim_/);
    const server = await startServe(['--port', '0', '--host', '127.0.0.1', '--data', join(temp.dir, 'data'), '--config', config, '--log-level', 'silent'], {
      env: { CIMMERIA_LDAP_URL: slapd.url },
      timeoutMs: 30_000,
    });
    servers.push(server);
    expect((await login(server.url, 'alice', secret)).status).toBe(200);
    const body = 'from conan import ConanFile\n';
    const upload = await fetch(`${server.url}/v2/conans/ldaptok/1.0/_/_/revisions/a1b2c3/files/conanfile.py`, {
      method: 'PUT',
      body,
      headers: { authorization: basic('alice', secret), 'x-checksum-sha1': createHash('sha1').update(body).digest('hex') },
    });
    expect(upload.status).toBe(200);

    const missing = await token(config, 'create', 'nobody');
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain("No user 'nobody' in");
    expect(missing.stderr).toContain('the LDAP directory');
    expect(missing.stdout).toBe('');
  });

  // Opt-in (CIMMERIA_CONAN_CLIENT): needs the conan client (2.x).
  it.skipIf(!CONAN)('with the real conan client: conan remote login with a directory user\'s token, then conan upload', async () => {
    const config = await writeConfig(SEARCH_MODE);
    const secret = (await token(config, 'create', 'alice')).stdout.trim();
    expect(secret).toMatch(/^cim_/);
    const server = await startServe(['--port', '0', '--host', '127.0.0.1', '--data', join(temp.dir, 'data'), '--config', config, '--log-level', 'silent'], {
      env: { CIMMERIA_LDAP_URL: slapd.url },
      timeoutMs: 30_000,
    });
    servers.push(server);
    const { ok } = await conanRecipe(temp.dir, 'ldaptoken', 'LdapToken');
    await ok('remote', 'add', 'cimmeria', server.url);
    await ok('export', '.');
    await ok('remote', 'login', 'cimmeria', 'alice', '-p', secret);
    await ok('upload', 'ldaptoken/1.0', '-r', 'cimmeria', '-c');
    expect((await fetch(`${server.url}/v2/conans/ldaptoken/1.0/_/_/latest`)).status).toBe(200);
  });

  it('bind DN template mode: refused with a message naming ldap.searchBase; directory down: refused, saying so', async () => {
    const template = await writeConfig({ bindDn: `uid={user},ou=people,${LDAP_BASE}` });
    const refused = await token(template, 'create', 'alice');
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('ldap.searchBase');
    expect(refused.stdout).toBe('');

    const down = await writeConfig({ ...SEARCH_MODE, url: `ldap://127.0.0.1:${await freePort()}`, timeoutMs: 1000 });
    const result = await runCli(['token', 'create', 'alice', '--data', join(temp.dir, 'data'), '--config', down]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/LDAP directory ldap:\/\/127\.0\.0\.1:\d+ did not answer/);
  });
});
