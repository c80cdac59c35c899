import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { basic, login, runCli, startServe, type ServeProcess } from './support/cli-process.js';
import { tempDirForAll } from './support/hooks.js';

// Issue 12, "API tokens": `cimmeria token` against a running server sharing the database.

const WRITERS = 'permissions:\n  write:\n    - { pattern: "*/*@*/*", users: [alice, bob] }\n    - { pattern: "*/*", users: [alice, bob] }\n';
const fileUrl = (name: string) => `/v2/conans/${name}/1.0/_/_/revisions/0123456789abcdef0123456789abcdef/files/conanfile.py`;

const tmp = tempDirForAll();
let data: string;
let config: string;
let serve: ServeProcess;
const token = (...args: string[]) => runCli(['token', ...args, '--data', data, '--config', config]);
const upload = async (name: string, authorization: string) =>
  (await fetch(`${serve.url}${fileUrl(name)}`, { method: 'PUT', body: `# ${name}`, headers: { authorization } })).status;

beforeAll(async () => {
  data = join(tmp.dir, 'data');
  config = join(tmp.dir, 'config.yaml');
  await writeFile(config, WRITERS);
  for (const user of ['alice', 'bob']) {
    expect((await runCli(['user', 'add', user, '--password', `${user}-pw`, '--data', data])).code).toBe(0);
  }
  serve = await startServe(['--port', '0', '--host', '127.0.0.1', '--data', data, '--config', config, '--log-level', 'silent']);
});
afterAll(async () => {
  expect(await serve?.stop()).toBe(0);
});

describe('issue 12: cimmeria token', () => {
  it('create prints the token alone on stdout; it logs in as a password (conan remote login USER -p TOKEN) and uploads', async () => {
    const created = await token('create', 'alice', '--name', 'ci');
    expect(created.code).toBe(0);
    expect(created.stdout).toMatch(/^cim_[0-9a-f]{16}_[A-Za-z0-9_-]{43}\n$/);
    const secret = created.stdout.trim();
    expect((await login(serve.url, 'alice', secret)).status).toBe(200);
    expect(await upload('fromcli', basic('alice', secret))).toBeLessThan(300);
    expect(await upload('fromcli2', `Bearer ${secret}`)).toBeLessThan(300);
  });

  it('list shows id, user, name, scope, pattern, created, expires, last used (never the secret); list USER filters', async () => {
    const created = await token('create', 'bob', '--name', 'nightly', '--scope', 'read', '--pattern', 'zlib/*@*/*', '--expires', '90d');
    expect(created.code).toBe(0);
    const list = await token('list');
    expect(list.code).toBe(0);
    const lines = list.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^ID\s+USER\s+NAME\s+SCOPE\s+PATTERN\s+CREATED\s+EXPIRES\s+LAST USED$/);
    const bobs = lines.find((l) => l.includes('nightly'))!;
    expect(bobs).toMatch(/bob\s+nightly\s+read\s+zlib\/\*@\*\/\*\s+\S+\s+\d{4}-\S+\s+-$/);
    // alice's 'ci' token was used by the test before: its last use is shown.
    expect(lines.find((l) => /\salice\s+ci\s/.test(l))).toMatch(/\s+write\s+\*\s+\S+\s+never\s+\d{4}-\S+$/);
    expect(list.stdout).not.toContain(created.stdout.trim());
    const onlyBob = (await token('list', 'bob')).stdout.trim().split('\n').slice(1);
    expect(onlyBob.length).toBeGreaterThan(0);
    expect(onlyBob.every((l) => /^\S+\s+bob\s/.test(l))).toBe(true);
  });

  it('a read-scoped token cannot upload (403); a pattern-narrowed one only inside its pattern', async () => {
    const read = (await token('create', 'alice', '--scope', 'read')).stdout.trim();
    expect(await upload('readonly', basic('alice', read))).toBe(403);
    const zlib = (await token('create', 'alice', '--pattern', 'zlib/*')).stdout.trim();
    expect(await upload('hello', basic('alice', zlib))).toBe(403);
    expect(await upload('zlib', basic('alice', zlib))).toBeLessThan(300);
  });

  it('revoke makes the token and its sessions fail on the running server at once', async () => {
    const secret = (await token('create', 'alice', '--name', 'to-revoke')).stdout.trim();
    const session = (await login(serve.url, 'alice', secret)).token;
    expect(await upload('beforerevoke', `Bearer ${session}`)).toBeLessThan(300);
    const id = secret.slice(4, 20);
    const revoked = await token('revoke', id);
    expect(revoked.code).toBe(0);
    expect(await upload('afterrevoke', basic('alice', secret))).toBe(401);
    expect(await upload('afterrevoke', `Bearer ${secret}`)).toBe(401);
    expect(await upload('afterrevoke', `Bearer ${session}`)).toBe(401);
    expect((await token('list')).stdout).not.toContain(id);
    expect((await token('revoke', id)).code).toBe(1);
  });

  it('removing the user revokes their tokens', async () => {
    expect((await runCli(['user', 'add', 'carol', '--password', 'carol-pw', '--data', data])).code).toBe(0);
    const secret = (await token('create', 'carol')).stdout.trim();
    expect((await login(serve.url, 'carol', secret)).status).toBe(200);
    expect((await runCli(['user', 'remove', 'carol', '--data', data])).code).toBe(0);
    expect((await login(serve.url, 'carol', secret)).status).toBe(401);
    expect((await token('list', 'carol')).stdout).toBe('');
  });

  it('bad usage is exit code 2, an unknown user exit code 1', async () => {
    expect((await token('create', 'alice', '--scope', 'admin')).code).toBe(2);
    expect((await token('create', 'alice', '--expires', 'soon')).code).toBe(2);
    expect((await token('create')).code).toBe(2);
    expect((await token('revoke')).code).toBe(2);
    expect((await token('list', '--scope', 'read')).code).toBe(2);
    const unknown = await token('create', 'nobody');
    expect(unknown.code).toBe(1);
    expect(unknown.stdout).toBe('');
    // A name an object inherits is no user of the configuration either.
    const inherited = await token('create', 'toString');
    expect(inherited.code).toBe(1);
    expect(inherited.stdout).toBe('');
    expect((await runCli(['token', '--help'])).stdout).toContain('Usage: cimmeria token');
  });
});
