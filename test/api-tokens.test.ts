import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ConanServerAuthorizer,
  PasswordAuthenticator,
  TokenService,
  createConanHandler,
  createRegistry,
  hashPassword,
  type MetadataStore,
  type Registry,
} from '@cimmeria/core';
import { serveNode } from '@cimmeria/core/node';
import { FsBlobStore } from '@cimmeria/storage-fs';
import { metadataBackends, type Backend } from './support/backends.js';
import { basicAuth } from './support/login.js';

// Issue 12, "API tokens": CI logs in with a revocable, narrowed token instead of a password.

const REV = '0123456789abcdef0123456789abcdef';
const fileUrl = (name: string) => `/v2/conans/${name}/1.0/_/_/revisions/${REV}/files/conanfile.py`;

describe.each(metadataBackends)('issue 12, API tokens over HTTP (%s)', (_name, makeBackend) => {
  let dir: string;
  let backend: Backend<MetadataStore>;
  let registry: Registry;
  let url: string;
  let close: () => Promise<void>;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'cimmeria-api-tokens-'));
    backend = await makeBackend(dir);
    for (const user of ['alice', 'bob', 'carol', 'dave']) await backend.store.addUser(user, await hashPassword(`${user}-pw`));
    registry = createRegistry({
      metadata: backend.store,
      blobs: new FsBlobStore({ directory: join(dir, 'blobs') }),
      authenticator: new PasswordAuthenticator(backend.store),
      tokens: new TokenService({ secret: 'api-tokens-test-secret-0123' }),
      authorizer: new ConanServerAuthorizer({
        read: [{ pattern: '*/*@*/*', users: ['*'] }, { pattern: '*/*', users: ['*'] }],
        write: [{ pattern: '*/*', users: ['alice', 'bob', 'carol', 'dave'] }],
      }),
      loginFailuresPerUser: 3,
    });
    const server = await serveNode(createConanHandler(registry), { host: '127.0.0.1', port: 0 });
    url = server.url;
    close = () => server.close();
  });
  afterAll(async () => {
    await close?.();
    await backend?.dispose();
    await rm(dir, { recursive: true, force: true });
  });

  const upload = async (name: string, authorization: string) =>
    (await fetch(`${url}${fileUrl(name)}`, { method: 'PUT', body: `# ${name}`, headers: { authorization } })).status;
  const whoAmI = async (authorization: string) => {
    const response = await fetch(`${url}/v2/users/check_credentials`, { headers: { authorization } });
    return { status: response.status, body: await response.text() };
  };
  const login = async (user: string, password: string) => {
    const response = await fetch(`${url}/v2/users/authenticate`, { headers: { authorization: basicAuth(user, password) } });
    return { status: response.status, body: await response.text() };
  };
  const api = (path: string, authorization: string, init: RequestInit = {}) =>
    fetch(`${url}/api/v1/tokens${path}`, { ...init, headers: { authorization, 'content-type': 'application/json' } });

  it('a token is a password: HTTP Basic with it uploads, and /v2/users/authenticate turns it into a session', async () => {
    const { token } = await registry.service.apiTokens.create('alice', { name: 'ci' });
    expect(token).toMatch(/^cim_/);
    expect(await upload('basic', basicAuth('alice', token))).toBeLessThan(300);
    const session = await login('alice', token);
    expect(session.status).toBe(200);
    expect(await whoAmI(`Bearer ${session.body}`)).toEqual({ status: 200, body: 'alice' });
    // Another user's name with alice's token is a wrong password.
    expect((await login('bob', token)).status).toBe(401);
  });

  it('a token is also a Bearer token directly', async () => {
    const { token } = await registry.service.apiTokens.create('alice');
    expect(await whoAmI(`Bearer ${token}`)).toEqual({ status: 200, body: 'alice' });
    expect(await upload('bearer', `Bearer ${token}`)).toBeLessThan(300);
  });

  it('a read-scoped token gets 403 on upload (Basic, Bearer and its session), though its user may write', async () => {
    const { token } = await registry.service.apiTokens.create('alice', { scope: 'read' });
    expect(await upload('readonly', `Bearer ${token}`)).toBe(403);
    const refused = await fetch(`${url}${fileUrl('readonly')}`, { method: 'PUT', body: 'x', headers: { authorization: `Bearer ${token}` } });
    expect(await refused.text()).toContain("'alice' may not write 'readonly/1.0' with this API token");
    expect(await upload('readonly', basicAuth('alice', token))).toBe(403);
    const session = await login('alice', token);
    expect(await upload('readonly', `Bearer ${session.body}`)).toBe(403);
    expect(await upload('readonly', basicAuth('alice', 'alice-pw'))).toBeLessThan(300);
    expect(await whoAmI(`Bearer ${token}`)).toEqual({ status: 200, body: 'alice' });
  });

  it('a pattern-narrowed token gets 403 outside its pattern and writes inside it', async () => {
    const { token } = await registry.service.apiTokens.create('alice', { pattern: 'zlib*/*' });
    expect(await upload('hello', `Bearer ${token}`)).toBe(403);
    expect(await upload('zlib', `Bearer ${token}`)).toBeLessThan(300);
  });

  it('a revoked token gets 401, and so do the sessions made from it', async () => {
    const { token, record } = await registry.service.apiTokens.create('bob');
    const session = (await login('bob', token)).body;
    expect(await whoAmI(`Bearer ${session}`)).toEqual({ status: 200, body: 'bob' });
    expect(await registry.service.apiTokens.revoke(record.id)).toBe(true);
    expect((await whoAmI(`Bearer ${token}`)).status).toBe(401);
    expect((await whoAmI(basicAuth('bob', token))).status).toBe(401);
    expect((await whoAmI(`Bearer ${session}`)).status).toBe(401);
    expect(await upload('revoked', `Bearer ${session}`)).toBe(401);
  });

  it('removing the user makes their tokens (and sessions from them) 401', async () => {
    const { token } = await registry.service.apiTokens.create('carol');
    const session = (await login('carol', token)).body;
    expect(await backend.store.deleteUser('carol')).toBe(true);
    expect((await whoAmI(`Bearer ${token}`)).status).toBe(401);
    expect((await whoAmI(basicAuth('carol', token))).status).toBe(401);
    expect((await whoAmI(`Bearer ${session}`)).status).toBe(401);
  });

  it('an expired token gets 401, and so do sessions made from it', async () => {
    const { token } = await registry.service.apiTokens.create('bob', { expiresInSeconds: 1 });
    const session = (await login('bob', token)).body;
    expect(await whoAmI(`Bearer ${token}`)).toEqual({ status: 200, body: 'bob' });
    await new Promise((r) => setTimeout(r, 1300));
    expect((await whoAmI(`Bearer ${token}`)).status).toBe(401);
    expect((await whoAmI(`Bearer ${session}`)).status).toBe(401);
  });

  it('a wrong token is a failed login: guessing tokens throttles the user like guessing passwords', async () => {
    const { token } = await registry.service.apiTokens.create('dave');
    const wrong = `${token.slice(0, -4)}AAAA` === token ? `${token.slice(0, -4)}BBBB` : `${token.slice(0, -4)}AAAA`;
    for (let i = 0; i < 3; i++) expect((await login('dave', wrong)).status).toBe(401);
    expect((await login('dave', 'dave-pw')).status).toBe(429);
  });

  it('/api/v1/tokens: the logged-in user creates, lists and revokes their own tokens; another user\'s id is 404', async () => {
    const alice = basicAuth('alice', 'alice-pw');
    const bob = basicAuth('bob', 'bob-pw');
    const created = await api('', alice, { method: 'POST', body: JSON.stringify({ name: 'ci', scope: 'read', expires: '90d' }) });
    expect(created.status).toBe(201);
    const body = (await created.json()) as { token: string; id: string; name: string; scope: string; expires: string | null };
    expect(body).toMatchObject({ name: 'ci', scope: 'read' });
    expect(body.token).toMatch(/^cim_/);
    expect(body.expires).not.toBeNull();
    expect(await whoAmI(`Bearer ${body.token}`)).toEqual({ status: 200, body: 'alice' });

    const bobsToken = (await (await api('', bob, { method: 'POST', body: '{}' })).json()) as { id: string };
    const listed = (await (await api('', alice)).json()) as { tokens: { id: string; user: string }[] };
    expect(listed.tokens.map((t) => t.id)).toContain(body.id);
    expect(listed.tokens.every((t) => t.user === 'alice')).toBe(true);
    expect(JSON.stringify(listed)).not.toContain(body.token);

    expect((await api(`/${bobsToken.id}`, alice, { method: 'DELETE' })).status).toBe(404);
    expect((await api(`/${body.id}`, alice, { method: 'DELETE' })).status).toBe(204);
    expect((await whoAmI(`Bearer ${body.token}`)).status).toBe(401);
    expect((await api(`/${bobsToken.id}`, bob, { method: 'DELETE' })).status).toBe(204);
  });

  it('/api/v1/tokens: anonymous is 401, bad bodies are 400, oversized ones 413, and a token cannot mint tokens', async () => {
    expect((await fetch(`${url}/api/v1/tokens`)).status).toBe(401);
    const alice = basicAuth('alice', 'alice-pw');
    expect((await api('', alice, { method: 'POST', body: '{"scope":"admin"}' })).status).toBe(400);
    expect((await api('', alice, { method: 'POST', body: '{"expires":"soon"}' })).status).toBe(400);
    expect((await api('', alice, { method: 'POST', body: 'not json' })).status).toBe(400);
    expect((await api('', alice, { method: 'POST', body: JSON.stringify({ name: 'x'.repeat(20_000) }) })).status).toBe(413);
    const { token } = await registry.service.apiTokens.create('alice', { scope: 'read' });
    expect((await api('', `Bearer ${token}`, { method: 'POST', body: '{}' })).status).toBe(403);
  });
});
