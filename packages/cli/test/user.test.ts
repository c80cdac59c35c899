import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { login, runCli, startServe, tempDir, type ServeProcess } from './support/cli-process.js';
import { tempDirForAll } from './support/hooks.js';

const SERVER_CONF = new URL('../../../conformance/server.conf', import.meta.url).pathname;

// One server for the whole file: user commands change the shared database
// and the running server sees each change at its next login.
const tmp = tempDirForAll();
let data: string;
let serve: ServeProcess;
const user = (...args: string[]) => runCli(['user', ...args, '--data', data]);

beforeAll(async () => {
  data = join(tmp.dir, 'data');
  expect((await user('add', 'alice', '--password', 'first-pass')).code).toBe(0);
  serve = await startServe(['--port', '0', '--host', '127.0.0.1', '--data', data, '--log-level', 'silent']);
});
afterAll(async () => {
  expect(await serve?.stop()).toBe(0);
});

describe('cimmeria user', () => {
  it('does not create admin when a user already exists', () => {
    expect(serve.stderr()).not.toContain('Created user');
  });

  it('adds users from --password or stdin, and they can log in', async () => {
    expect((await login(serve.url, 'alice', 'first-pass')).status).toBe(200);
    const added = await runCli(['user', 'add', 'bob', '--data', data], { input: 'piped pass\nignored second line\n' });
    expect(added.code).toBe(0);
    expect(added.stderr).toContain("Added user 'bob'");
    expect((await login(serve.url, 'bob', 'piped pass')).status).toBe(200);
    expect((await login(serve.url, 'bob', 'ignored second line')).status).toBe(401);
  });

  it('refuses to add an existing user (exit code 1)', async () => {
    const again = await user('add', 'alice', '--password', 'x');
    expect(again.code).toBe(1);
    expect(again.stderr).toContain("User 'alice' already exists");
    expect((await login(serve.url, 'alice', 'first-pass')).status).toBe(200);
  });

  it('item 9: a bad user name or an empty password is bad usage: exit code 2, as the README says', async () => {
    for (const name of ['bad:name', ' bad name', '*']) {
      const bad = await user('add', name, '--password', 'x');
      expect(bad.stderr, name).toContain(`Invalid user name '${name}'`);
      expect(bad.code, name).toBe(2);
    }
    const empty = await runCli(['user', 'add', 'carol', '--data', data], { input: '' });
    expect(empty.stderr).toContain('must not be empty');
    expect(empty.code).toBe(2);
    const emptyFlag = await runCli(['hash-password', '--password', '']);
    expect(emptyFlag.stderr).toContain('must not be empty');
    expect(emptyFlag.code).toBe(2);
    expect((await user('list')).stdout.split('\n')).not.toContain('carol');
  });

  it('changes passwords: the old one stops working, the new one works', async () => {
    const changed = await runCli(['user', 'passwd', 'alice', '--data', data], { input: 'second-pass\n' });
    expect(changed.code).toBe(0);
    expect((await login(serve.url, 'alice', 'first-pass')).status).toBe(401);
    expect((await login(serve.url, 'alice', 'second-pass')).status).toBe(200);
    const missing = await user('passwd', 'nobody', '--password', 'x');
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain("No user 'nobody'");
  });

  it('lists and removes users; a removed user cannot log in', async () => {
    expect((await user('list')).stdout.split('\n').filter(Boolean).sort()).toEqual(['alice', 'bob']);
    expect((await user('remove', 'bob')).code).toBe(0);
    expect((await login(serve.url, 'bob', 'piped pass')).status).toBe(401);
    expect((await user('list')).stdout.trim()).toBe('alice');
    const again = await user('remove', 'bob');
    expect(again.code).toBe(1);
    expect(again.stderr).toContain("No user 'bob'");
  });

  it('answers usage errors with exit code 2', async () => {
    for (const args of [['frobnicate', 'x'], ['add'], ['list', 'extra'], ['remove', 'alice', '--password', 'x']]) {
      expect((await user(...args)).code, args.join(' ')).toBe(2);
    }
    expect((await runCli(['user'])).code).toBe(2);
  });
});

describe('users from a conan_server conf and from the store together', () => {
  it('accepts both, static users first', async () => {
    const own = await tempDir();
    try {
      expect((await runCli(['user', 'add', 'ci', '--data', own.dir, '--password', 'ci-pass'])).code).toBe(0);
      const both = await startServe([
        '--port', '0', '--host', '127.0.0.1', '--data', own.dir, '--conan-server-conf', SERVER_CONF, '--log-level', 'silent',
      ]);
      try {
        expect((await login(both.url, 'demo', 'demo')).status).toBe(200);
        expect((await login(both.url, 'ci', 'ci-pass')).status).toBe(200);
        expect((await login(both.url, 'ci', 'demo')).status).toBe(401);
        // server.conf's write rule lists demo and admin only.
        const { token } = await login(both.url, 'ci', 'ci-pass');
        const put = await fetch(
          `${both.url}/v2/conans/hello/1.0/_/_/revisions/0123456789abcdef0123456789abcdef/files/conanfile.py`,
          { method: 'PUT', body: 'x', headers: { authorization: `Bearer ${token}` } },
        );
        expect(put.status).toBe(403);
      } finally {
        expect(await both.stop()).toBe(0);
      }
    } finally {
      await own.remove();
    }
  });
});
