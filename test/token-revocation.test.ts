import { afterEach, describe, expect, it } from 'vitest';
import {
  PasswordAuthenticator,
  TokenService,
  createConanHandler,
  firstOf,
  hashPassword,
  type Authenticator,
  type PasswordHashSource,
  type RegistryOptions,
} from '@cimmeria/core';
import { serveNode } from '@cimmeria/core/node';
import { conformanceRegistry } from './support/conformance-registry.js';
import { basicAuth } from './support/login.js';

// Issue 8, item 3: tokens could not be revoked. Here the user directory is a
// map both nodes read, as they would read one database.

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** Users as a shared database would hold them: name -> scrypt hash, changeable while nodes run. */
class UserTable implements PasswordHashSource {
  readonly hashes = new Map<string, string>();
  async getPasswordHash(user: string) {
    return this.hashes.get(user);
  }
  async set(user: string, password: string) {
    this.hashes.set(user, await hashPassword(password));
  }
}

const SECRET = 'token-revocation-secret-0123';

async function node(options: Partial<RegistryOptions>): Promise<string> {
  const { registry, dispose } = await conformanceRegistry({ tokens: new TokenService({ secret: SECRET }), ...options });
  const server = await serveNode(createConanHandler(registry));
  cleanups.push(async () => {
    await server.close();
    await dispose();
  });
  return server.url;
}

async function login(url: string, user: string, password: string): Promise<string> {
  const response = await fetch(`${url}/v2/users/authenticate`, { headers: { authorization: basicAuth(user, password) } });
  expect(response.status, `login of ${user}`).toBe(200);
  return response.text();
}

const status = async (url: string, token: string) =>
  (await fetch(`${url}/v2/users/check_credentials`, { headers: { authorization: `Bearer ${token}` } })).status;

/** Ms until `token` gets 401 on `url`, polling; fails after `limitMs`. */
async function msUntilRefused(url: string, token: string, limitMs: number): Promise<number> {
  const started = Date.now();
  while (Date.now() - started < limitMs) {
    if ((await status(url, token)) === 401) return Date.now() - started;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`token still accepted after ${limitMs} ms`);
}

describe('item 3 of issue 8: tokens are revoked with their credentials', () => {
  it('item 3: a token is refused within credentialCacheSeconds once the password changes, on every node', async () => {
    const users = new UserTable();
    await users.set('alice', 'first');
    const options = { authenticator: new PasswordAuthenticator(users), credentialCacheSeconds: 1 };
    const [a, b] = [await node(options), await node(options)];
    const old = await login(a.toString(), 'alice', 'first');
    // Both nodes have looked alice up: their caches hold the old version.
    expect([await status(a, old), await status(b, old)]).toEqual([200, 200]);

    await users.set('alice', 'second');
    // Within the bound (1 s; 3x allowed for a busy machine), on both nodes.
    expect(await msUntilRefused(a, old, 3000)).toBeLessThan(3000);
    expect(await msUntilRefused(b, old, 3000)).toBeLessThan(3000);
    const refused = await fetch(`${b}/v2/users/check_credentials`, { headers: { authorization: `Bearer ${old}` } });
    expect(refused.status).toBe(401);
    expect(await refused.text()).toMatch(/log in again/);
  });

  it('item 3: a token issued on one node after a password change works at once on a node that cached the old version', async () => {
    const users = new UserTable();
    await users.set('alice', 'first');
    const options = { authenticator: new PasswordAuthenticator(users), credentialCacheSeconds: 60 };
    const [a, b] = [await node(options), await node(options)];
    expect(await status(b, await login(a, 'alice', 'first'))).toBe(200);
    await users.set('alice', 'second');
    const fresh = await login(a, 'alice', 'second');
    expect(await status(b, fresh)).toBe(200);
    expect(await status(a, fresh)).toBe(200);
  });

  it('item 3: removing a user, or removing and re-creating it, revokes its tokens', async () => {
    const users = new UserTable();
    await users.set('bob', 'pass');
    await users.set('carol', 'pass');
    const url = await node({ authenticator: new PasswordAuthenticator(users), credentialCacheSeconds: 1 });
    const bob = await login(url, 'bob', 'pass');
    const carol = await login(url, 'carol', 'pass');
    expect([await status(url, bob), await status(url, carol)]).toEqual([200, 200]);

    users.hashes.delete('bob');
    expect(await msUntilRefused(url, bob, 3000)).toBeLessThan(3000);
    // Same name, same password, created again: the old token is not inherited.
    users.hashes.delete('carol');
    await users.set('carol', 'pass');
    expect(await msUntilRefused(url, carol, 3000)).toBeLessThan(3000);
    expect(await status(url, await login(url, 'carol', 'pass'))).toBe(200);
  });

  it('item 3: with firstOf, the first authenticator that knows the user decides', async () => {
    const primary = new UserTable();
    const secondary = new UserTable();
    await primary.set('dave', 'one');
    await secondary.set('erin', 'two');
    const url = await node({
      authenticator: firstOf(new PasswordAuthenticator(primary), new PasswordAuthenticator(secondary)),
      credentialCacheSeconds: 0,
    });
    const dave = await login(url, 'dave', 'one');
    const erin = await login(url, 'erin', 'two');
    expect([await status(url, dave), await status(url, erin)]).toEqual([200, 200]);
    await secondary.set('erin', 'three');
    expect(await status(url, erin)).toBe(401);
    expect(await status(url, dave)).toBe(200);
    primary.hashes.delete('dave');
    expect(await status(url, dave)).toBe(401);
  });

  it('item 3: tokens of an authenticator without credentialVersion work as before', async () => {
    const sso: Authenticator = { authenticate: async (user, password) => (password === 'ok' ? { name: user } : undefined) };
    const url = await node({ authenticator: sso, credentialCacheSeconds: 0 });
    const token = await login(url, 'frank', 'ok');
    expect(await status(url, token)).toBe(200);
  });
});
