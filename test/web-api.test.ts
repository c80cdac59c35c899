import { createServer } from 'node:http';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import express from 'express';
import Fastify from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { conanRouter } from '@cimmeria/adapter-express';
import { conanPlugin } from '@cimmeria/adapter-fastify';
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
import { metadataBackends, sqliteBackend, type Backend } from './support/backends.js';
import { startServe, tempDir } from '../packages/cli/test/support/cli-process.js';
import { listen } from './support/listen.js';
import { basicAuth } from './support/login.js';

// Issue 13, part A: the web API under /api/v1, over real HTTP, real uploads,
// on SQLite and PostgreSQL, through the fetch handler and the adapters.

const SERVER_CONF = new URL('../conformance/server.conf', import.meta.url).pathname;
const ALICE = basicAuth('alice', 'alice-pw');
const BOB = basicAuth('bob', 'bob-pw');

async function makeRegistry(dir: string, store: MetadataStore): Promise<Registry> {
  for (const user of ['alice', 'bob']) await store.addUser(user, await hashPassword(`${user}-pw`));
  return createRegistry({
    metadata: store,
    blobs: new FsBlobStore({ directory: join(dir, 'blobs') }),
    authenticator: new PasswordAuthenticator(store),
    tokens: new TokenService({ secret: 'web-api-test-secret-0123456789' }),
    authorizer: new ConanServerAuthorizer({
      // secret/* is alice's alone; everything else is public.
      read: [
        { pattern: 'secret/*', users: ['alice'] },
        { pattern: 'secret/*@*/*', users: ['alice'] },
        { pattern: '*/*@*/*', users: ['*'] },
      ],
      write: [{ pattern: '*/*@*/*', users: ['alice'] }],
    }),
  });
}

/**
 * A fresh temp dir, a store from `makeBackend` in it, makeRegistry's registry on that store, served
 * over HTTP; `stop` closes the server, disposes of the store and removes the dir (also run if setup fails).
 */
async function serveFreshRegistry(
  prefix: string,
  makeBackend: (dir: string) => Promise<Backend<MetadataStore>>,
): Promise<{ url: string; stop(): Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  let backend: Backend<MetadataStore> | undefined;
  let server: { url: string; close(): Promise<void> } | undefined;
  const stop = async () => {
    await server?.close();
    await backend?.dispose();
    await rm(dir, { recursive: true, force: true });
  };
  try {
    backend = await makeBackend(dir);
    const registry = await makeRegistry(dir, backend.store);
    server = await serveNode(createConanHandler(registry), { host: '127.0.0.1', port: 0 });
  } catch (error) {
    await stop();
    throw error;
  }
  return { url: server.url, stop };
}

/** Uploads a recipe revision (and binaries) as `conan upload` does: the manifest last. */
async function publish(
  url: string,
  ref: string,
  rrev: string,
  binaries: Record<string, string> = {},
  extra: Record<string, string> = {},
): Promise<void> {
  const [nameVersion = '', userChannel = '_/_'] = ref.split('@');
  const base = `${url}/v2/conans/${nameVersion}/${userChannel}/revisions/${rrev}`;
  const put = async (path: string, body: string) => {
    const response = await fetch(`${base}/${path}`, { method: 'PUT', body, headers: { authorization: ALICE } });
    expect(response.status, `${ref} ${path}`).toBe(200);
  };
  await put('files/conanfile.py', `from conan import ConanFile\nclass Pkg(ConanFile):\n    name = "${nameVersion.split('/')[0]}"\n`);
  for (const [path, body] of Object.entries(extra)) await put(`files/${path}`, body);
  await put('files/conanmanifest.txt', '1700000000\n');
  for (const [packageId, conaninfo] of Object.entries(binaries)) {
    await put(`packages/${packageId}/revisions/prev1/files/conaninfo.txt`, conaninfo);
    await put(`packages/${packageId}/revisions/prev1/files/conan_package.tgz`, 'tgz-bytes');
    await put(`packages/${packageId}/revisions/prev1/files/conanmanifest.txt`, '1700000001\n');
  }
}

const conaninfo = (os: string, requires: string[] = []) =>
  `[settings]\narch=x86_64\nbuild_type=Release\nos=${os}\n\n[options]\nshared=False\n\n[requires]\n${requires.join('\n')}\n`;

describe.each(metadataBackends)('issue 13: the web API (%s)', (_name, makeBackend) => {
  let url: string;
  let stop: (() => Promise<void>) | undefined;

  beforeAll(async () => {
    ({ url, stop } = await serveFreshRegistry('cimmeria-web-api-', makeBackend));
    await publish(url, 'zlib/1.2.13', 'z1');
    await publish(url, 'zlib/1.3.1@acme/stable', 'z3');
    await publish(url, 'zlib/1.3.1', 'z2', { pz: conaninfo('Linux') }, { 'metadata/logs/build.log': 'built fine' });
    await publish(url, 'app/1.0', 'a1', { pa: conaninfo('Windows', ['zlib/1.3.Z']) });
    await publish(url, 'secret/1.0', 's1', { ps: conaninfo('Linux', ['zlib/1.3.1']) });
  });
  afterAll(async () => {
    await stop?.();
  });

  const get = async (path: string, authorization?: string) => {
    const response = await fetch(`${url}/api/v1${path}`, { headers: authorization ? { authorization } : {} });
    return { status: response.status, body: (await response.json()) as any, headers: response.headers };
  };
  const names = async (query: string, authorization?: string) =>
    (await get(`/recipes${query}`, authorization)).body.items.map((i: { name: string }) => i.name);

  it('searches recipes by prefix or pattern, one item per name with its latest version', async () => {
    const { status, body, headers } = await get('/recipes?q=zl');
    expect(status).toBe(200);
    expect(headers.get('content-type')).toBe('application/json');
    expect(body).toMatchObject({ page: 1, perPage: 50, total: 1 });
    expect(body.items).toEqual([
      {
        name: 'zlib',
        latest: { reference: 'zlib/1.3.1', version: '1.3.1', user: null, channel: null, revision: 'z2', time: expect.stringMatching(/^20\d\d-.*\+00:00$/) },
        versions: 3,
      },
    ]);
    expect(await names('?q=ZL')).toEqual(['zlib']);
    expect(await names('?q=*li*')).toEqual(['zlib']);
    expect(await names('')).toEqual(['app', 'zlib']);
    expect(await names('', ALICE)).toEqual(['app', 'secret', 'zlib']);
    const second = await get('/recipes?perPage=1&page=2', ALICE);
    expect(second.body).toMatchObject({ items: [{ name: 'secret' }], page: 2, perPage: 1, total: 3 });
  });

  it('never shows a recipe the caller could not conan list: search, detail, dependents, stats', async () => {
    for (const who of [undefined, BOB]) {
      expect(await names('?q=sec', who)).toEqual([]);
      expect(await names('?q=s*', who)).toEqual([]);
      expect((await get('/recipes?q=*', who)).body.total).toBe(2);
      expect((await get('/recipes/secret', who)).status).toBe(404);
      expect((await get('/recipes/secret/1.0/_/_/revisions', who)).status).toBe(who ? 403 : 401);
      expect((await get('/recipes/secret/1.0/_/_/revisions/s1', who)).status).toBe(who ? 403 : 401);
      expect((await get('/recipes/secret/1.0/_/_/revisions/s1/packages', who)).status).toBe(who ? 403 : 401);
      const dependents = (await get('/recipes/zlib/dependents', who)).body;
      expect(dependents.items.map((d: { reference: string }) => d.reference)).toEqual(['app/1.0']);
      const stats = (await get('/stats', who)).body;
      expect(stats.recent.map((r: { reference: string }) => r.reference)).not.toContain('secret/1.0');
      expect(stats.recent.length).toBe(4);
      // Totals would count what the caller cannot see.
      expect(stats.recipes).toBeNull();
      expect(JSON.stringify(stats)).not.toContain('secret');
    }
    expect(await names('?q=s*', ALICE)).toEqual(['secret']);
    expect((await get('/recipes/secret', ALICE)).status).toBe(200);
    const dependents = (await get('/recipes/zlib/dependents', ALICE)).body.items;
    expect(dependents.map((d: { reference: string }) => d.reference)).toEqual(['app/1.0', 'secret/1.0']);
    const stats = (await get('/stats', ALICE)).body;
    expect(stats.recent[0]).toMatchObject({ reference: 'secret/1.0', revision: 's1' });
    expect(stats).toMatchObject({ recipes: 5, revisions: 5, binaries: 3 });
    expect(stats.bytes).toBeGreaterThan(0);
  });

  it('narrows listings to what an API token covers', async () => {
    const created = await fetch(`${url}/api/v1/tokens`, {
      method: 'POST',
      body: JSON.stringify({ name: 'zlib-only', scope: 'read', pattern: 'zlib/*@*/*' }),
      headers: { authorization: ALICE },
    });
    const { token } = (await created.json()) as { token: string };
    const bearer = `Bearer ${token}`;
    expect(await names('', bearer)).toEqual(['zlib']);
    expect((await get('/recipes/app', bearer)).status).toBe(404);
    expect((await get('/recipes/zlib/dependents', bearer)).body.items).toEqual([]);
    expect((await get('/stats', bearer)).body).toMatchObject({ recipes: null, recent: [{ reference: 'zlib/1.3.1' }, { reference: 'zlib/1.3.1@acme/stable' }, { reference: 'zlib/1.2.13' }] });
  });

  it('details a recipe: versions newest first, revisions, files, conanfile.py, metadata files', async () => {
    const detail = (await get('/recipes/zlib')).body;
    expect(detail.name).toBe('zlib');
    expect(detail.versions.map((v: { reference: string }) => v.reference)).toEqual([
      'zlib/1.3.1',
      'zlib/1.3.1@acme/stable',
      'zlib/1.2.13',
    ]);
    expect(detail.versions[1]).toMatchObject({ version: '1.3.1', user: 'acme', channel: 'stable', revisions: 1, latestRevision: { revision: 'z3' } });

    expect((await get('/recipes/zlib/1.3.1/_/_/revisions')).body).toMatchObject({ reference: 'zlib/1.3.1', revisions: [{ revision: 'z2' }] });
    const revision = (await get('/recipes/zlib/1.3.1/_/_/revisions/z2')).body;
    expect(revision).toMatchObject({ reference: 'zlib/1.3.1', revision: 'z2', conanfileTruncated: false });
    expect(revision.conanfile).toContain('name = "zlib"');
    expect(revision.files.map((f: { path: string }) => f.path)).toEqual(['conanfile.py', 'conanmanifest.txt']);
    expect(revision.metadataFiles).toEqual([{ path: 'metadata/logs/build.log', size: 10 }]);
    expect((await get('/recipes/zlib/1.3.1/_/_/revisions/nope')).status).toBe(404);
    expect((await get('/recipes/nothing')).body.error.code).toBe('RECIPE_NOT_FOUND');
  });

  it('lists binaries with settings, options and requires parsed from conaninfo.txt', async () => {
    const { body } = await get('/recipes/app/1.0/_/_/revisions/a1/packages');
    expect(body.packages).toEqual([
      {
        packageId: 'pa',
        settings: { arch: 'x86_64', build_type: 'Release', os: 'Windows' },
        options: { shared: 'False' },
        requires: ['zlib/1.3.Z'],
        revisions: [
          {
            revision: 'prev1',
            time: expect.any(String),
            files: [
              { path: 'conan_package.tgz', size: 9 },
              { path: 'conaninfo.txt', size: conaninfo('Windows', ['zlib/1.3.Z']).length },
              { path: 'conanmanifest.txt', size: 11 },
            ],
          },
        ],
      },
    ]);
  });

  it('finds reverse dependencies by version', async () => {
    const ofVersion = async (version: string) =>
      (await get(`/recipes/zlib/dependents?version=${version}`, ALICE)).body.items.map((d: { requires: string }) => d.requires);
    expect(await ofVersion('1.3')).toEqual(['zlib/1.3.Z', 'zlib/1.3.1']);
    expect(await ofVersion('1.3.1')).toEqual(['zlib/1.3.Z', 'zlib/1.3.1']);
    expect(await ofVersion('1.2')).toEqual([]);
    const [first] = (await get('/recipes/zlib/dependents', ALICE)).body.items;
    expect(first).toEqual({ reference: 'app/1.0', revision: 'a1', packageId: 'pa', requires: 'zlib/1.3.Z' });
  });

  it('bounds its inputs and answers errors as JSON', async () => {
    expect((await get(`/recipes?q=${'a'.repeat(200)}`)).status).toBe(400);
    expect((await get('/recipes?perPage=1000')).status).toBe(400);
    expect((await get('/recipes?page=0')).status).toBe(400);
    const missing = await get('/nothing-here');
    expect(missing.status).toBe(404);
    expect(missing.body).toEqual({ error: { code: 'NOT_FOUND', message: expect.any(String) } });
    expect((await get('/recipes/bad%20name')).status).toBe(400);
  });

  it('logs in with a session cookie accepted on /api/v1 only, with CSRF protection', async () => {
    const bad = await fetch(`${url}/api/v1/session`, { method: 'POST', body: JSON.stringify({ username: 'alice', password: 'nope' }) });
    expect(bad.status).toBe(401);
    expect(bad.headers.get('set-cookie')).toBeNull();

    const login = await fetch(`${url}/api/v1/session`, { method: 'POST', body: JSON.stringify({ username: 'alice', password: 'alice-pw' }) });
    expect(login.status).toBe(200);
    expect(await login.json()).toEqual({ user: 'alice' });
    const setCookie = login.headers.get('set-cookie')!;
    expect(setCookie).toMatch(/^cimmeria_session=[^;]+; HttpOnly; SameSite=Strict; Path=\/api\/; Max-Age=\d+$/);
    const cookie = setCookie.split(';')[0]!;

    expect((await get('/me')).body).toEqual({ user: null, authenticated: false });
    const me = await fetch(`${url}/api/v1/me`, { headers: { cookie } });
    expect(await me.json()).toEqual({ user: 'alice', authenticated: true });
    // The cookie reads what alice reads.
    const secret = await fetch(`${url}/api/v1/recipes/secret`, { headers: { cookie } });
    expect(secret.status).toBe(200);

    // Never on the Conan API.
    expect((await fetch(`${url}/v2/users/check_credentials`, { headers: { cookie } })).status).toBe(401);
    expect((await fetch(`${url}/v2/conans/secret/1.0/_/_/revisions`, { headers: { cookie } })).status).toBe(401);

    const createToken = (headers: Record<string, string>) =>
      fetch(`${url}/api/v1/tokens`, { method: 'POST', body: JSON.stringify({ name: 'ci' }), headers: { cookie, ...headers } });
    const noHeader = await createToken({});
    expect(noHeader.status).toBe(403);
    expect(await noHeader.json()).toMatchObject({ error: { code: 'CSRF' } });
    const foreign = await createToken({ 'x-cimmeria-request': '1', origin: 'https://evil.example' });
    expect(foreign.status).toBe(403);
    expect(await foreign.json()).toMatchObject({ error: { code: 'CSRF' } });
    const created = await createToken({ 'x-cimmeria-request': '1', origin: url });
    expect(created.status).toBe(201);
    const { id } = (await created.json()) as { id: string };
    expect((await fetch(`${url}/api/v1/tokens/${id}`, { method: 'DELETE', headers: { cookie } })).status).toBe(403);
    expect((await fetch(`${url}/api/v1/tokens/${id}`, { method: 'DELETE', headers: { cookie, 'x-cimmeria-request': '1' } })).status).toBe(204);
    // Basic and Bearer need no CSRF header: no browser sends them on its own.
    expect((await fetch(`${url}/api/v1/tokens`, { method: 'POST', body: '{}', headers: { authorization: ALICE } })).status).toBe(201);

    // A login from another site's page is refused.
    const crossLogin = await fetch(`${url}/api/v1/session`, {
      method: 'POST',
      body: JSON.stringify({ username: 'alice', password: 'alice-pw' }),
      headers: { origin: 'https://evil.example' },
    });
    expect(crossLogin.status).toBe(403);

    const logout = await fetch(`${url}/api/v1/session`, { method: 'DELETE', headers: { cookie, 'x-cimmeria-request': '1' } });
    expect(logout.status).toBe(204);
    expect(logout.headers.get('set-cookie')).toMatch(/^cimmeria_session=; HttpOnly; SameSite=Strict; Path=\/api\/; Max-Age=0$/);
    // Logging in again while the browser still sends the old cookie: no CSRF header needed for that.
    const again = await fetch(`${url}/api/v1/session`, {
      method: 'POST',
      body: JSON.stringify({ username: 'alice', password: 'alice-pw' }),
      headers: { cookie, origin: url },
    });
    expect(again.status).toBe(200);
  });

  it('serves its OpenAPI description', async () => {
    const { status, body } = await get('/openapi.json');
    expect(status).toBe(200);
    expect(body.openapi).toBe('3.1.0');
    expect(Object.keys(body.paths)).toEqual(
      expect.arrayContaining(['/session', '/me', '/tokens', '/recipes', '/recipes/{name}', '/recipes/{name}/dependents', '/stats']),
    );
  });
});

describe.each(metadataBackends)('issue 13: pattern search over mixed-case names (%s)', (_name, makeBackend) => {
  let url: string;
  let stop: (() => Promise<void>) | undefined;

  beforeAll(async () => {
    ({ url, stop } = await serveFreshRegistry('cimmeria-web-api-patterns-', makeBackend));
    for (const name of ['lib199', 'LIB299', 'Lib19', 'lib1a9', 'lib99', 'zz99', 'mylib', 'LIB5', 'kit5']) await publish(url, `${name}/1.0`, 'r1');
    await publish(url, 'lib199/2.0', 'r1');
  });
  afterAll(async () => {
    await stop?.();
  });

  const search = async (query: string, authorization?: string) => {
    const response = await fetch(`${url}/api/v1/recipes?${query}`, { headers: authorization ? { authorization } : {} });
    expect(response.status).toBe(200);
    const body = (await response.json()) as { items: { name: string }[]; total: number };
    return { names: body.items.map((i) => i.name), total: body.total };
  };

  // Alice reads everything (the names come from the database in one read);
  // anonymous callers may not read secret/* (each recipe is checked).
  it.each([
    ['alice', ALICE],
    ['anonymous', undefined],
  ])('matches the whole name case-insensitively, in code-unit order (%s)', async (_who, authorization) => {
    expect(await search(`q=${encodeURIComponent('lib*99')}`, authorization)).toEqual({ names: ['LIB299', 'lib199', 'lib99'], total: 3 });
    expect(await search(`q=${encodeURIComponent('*99')}`, authorization)).toEqual({ names: ['LIB299', 'lib199', 'lib99', 'zz99'], total: 4 });
    expect(await search(`q=${encodeURIComponent('lib[0-9]9')}`, authorization)).toEqual({ names: ['Lib19', 'lib99'], total: 2 });
    expect(await search(`q=${encodeURIComponent('*[!0-9]9')}`, authorization)).toEqual({ names: ['lib1a9'], total: 1 });
    expect(await search(`q=${encodeURIComponent('LIB?')}`, authorization)).toEqual({ names: ['LIB5'], total: 1 });
    expect(await search(`q=${encodeURIComponent('*99')}&perPage=2&page=2`, authorization)).toEqual({ names: ['lib99', 'zz99'], total: 4 });
    expect(await search(`q=${encodeURIComponent('q*9')}`, authorization)).toEqual({ names: [], total: 0 });
    // The Kelvin sign matches k case-insensitively, as in the Conan search:
    // the database reads from the literal prefix's ASCII part only.
    expect(await search(`q=${encodeURIComponent('\u212Ait')}`, authorization)).toEqual({ names: ['kit5'], total: 1 });
    expect(await search(`q=${encodeURIComponent('\u212A*5')}`, authorization)).toEqual({ names: ['kit5'], total: 1 });
  });
});

describe('issue 13: the web API through the adapters, under a prefix', () => {
  let dir: string;
  let backend: Backend<MetadataStore>;
  let registry: Registry;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'cimmeria-web-api-adapters-'));
    backend = await sqliteBackend(dir);
    registry = await makeRegistry(dir, backend.store);
  });
  afterAll(async () => {
    await backend?.dispose();
    await rm(dir, { recursive: true, force: true });
  });

  const hosts: Record<string, () => Promise<{ url: string; close(): Promise<void> }>> = {
    express: async () => {
      const app = express();
      app.use(express.json());
      app.use('/conan', conanRouter(registry));
      return listen(createServer(app));
    },
    fastify: async () => {
      const app = Fastify({ forceCloseConnections: true });
      await app.register(conanPlugin, { registry, prefix: '/conan' });
      const url = await app.listen({ port: 0, host: '127.0.0.1' });
      return { url, close: () => app.close() };
    },
  };

  it.each(Object.keys(hosts))('%s: search, login with a cookie scoped to the mount, tokens', async (name) => {
    const host = await hosts[name]!();
    try {
      const base = `${host.url}/conan`;
      await publish(base, `lib${name}/1.0`, 'r1');
      const search = await fetch(`${base}/api/v1/recipes?q=lib${name}`);
      expect(((await search.json()) as any).items[0].latest.reference).toBe(`lib${name}/1.0`);
      const login = await fetch(`${base}/api/v1/session`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ username: 'bob', password: 'bob-pw' }),
      });
      expect(login.status).toBe(200);
      const setCookie = login.headers.get('set-cookie')!;
      expect(setCookie).toContain('Path=/conan/api/;');
      const cookie = setCookie.split(';')[0]!;
      const created = await fetch(`${base}/api/v1/tokens`, {
        method: 'POST',
        headers: { cookie, 'x-cimmeria-request': '1', 'content-type': 'application/json', origin: host.url },
        body: JSON.stringify({ name: 'from-ui' }),
      });
      expect(created.status).toBe(201);
      expect((await fetch(`${base}/api/v1/me`, { headers: { cookie } }).then((r) => r.json())) as any).toMatchObject({ user: 'bob' });
    } finally {
      await host.close();
    }
  });
});

describe('issue 13: the web API through cimmeria serve', () => {
  it('searches, hides what the caller may not read, and logs in with the cookie', async () => {
    const data = await tempDir('cimmeria-web-api-serve-');
    const serve = await startServe(['--port', '0', '--host', '127.0.0.1', '--data', data.dir, '--conan-server-conf', SERVER_CONF]);
    try {
      const demo = basicAuth('demo', 'demo');
      for (const name of ['zlib', 'secret']) {
        const base = `${serve.url}/v2/conans/${name}/1.0/_/_/revisions/r1/files`;
        for (const [path, body] of [['conanfile.py', '# recipe'], ['conanmanifest.txt', '1\n']]) {
          expect((await fetch(`${base}/${path}`, { method: 'PUT', body, headers: { authorization: demo } })).status).toBe(200);
        }
      }
      const names = async (headers: Record<string, string>) =>
        ((await (await fetch(`${serve.url}/api/v1/recipes`, { headers })).json()) as any).items.map((i: { name: string }) => i.name);
      expect(await names({})).toEqual(['zlib']);
      expect(await names({ authorization: basicAuth('other', 'other') })).toEqual(['zlib']);
      expect(await names({ authorization: demo })).toEqual(['secret', 'zlib']);
      const login = await fetch(`${serve.url}/api/v1/session`, { method: 'POST', body: JSON.stringify({ username: 'demo', password: 'demo' }) });
      expect(login.status).toBe(200);
      expect(await names({ cookie: login.headers.get('set-cookie')!.split(';')[0]! })).toEqual(['secret', 'zlib']);
    } finally {
      await serve.stop();
      await data.remove();
    }
  });
});
