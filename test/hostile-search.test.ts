import { createHash } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { hashPassword } from '@cimmeria/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServe, tempDir, type ServeProcess } from '../packages/cli/test/support/cli-process.js';
import { basicAuth } from './support/login.js';

// Issue 8, items 1 and 4: search patterns from anonymous callers, against a
// real `cimmeria serve` in its own process (a frozen server must fail the
// test by timeout, not freeze the test runner with it).

const md5 = (bytes: Uint8Array) => createHash('md5').update(bytes).digest('hex');
const PRIVATE_REF = 'secret/1.0@corp/stable';

let tmp: { dir: string; remove: () => Promise<void> };
let serve: ServeProcess;
let token: string;

async function get(path: string, options: { token?: string; timeoutMs?: number } = {}) {
  const response = await fetch(`${serve.url}${path}`, {
    headers: options.token ? { authorization: `Bearer ${options.token}` } : {},
    signal: AbortSignal.timeout(options.timeoutMs ?? 10_000),
  });
  return { status: response.status, text: await response.text() };
}

const search = (q: string, options: { token?: string; timeoutMs?: number } = {}) =>
  get(`/v2/conans/search?q=${encodeURIComponent(q)}`, options);

/** Publishes a recipe revision (conanfile, then a manifest listing its md5). */
async function publish(ref: string): Promise<void> {
  const [name, version, user = '_', channel = '_'] = ref.split(/[/@]/);
  const conanfile = new TextEncoder().encode(`from conan import ConanFile\nclass R(ConanFile):\n    name = "${name}"\n`);
  const manifest = new TextEncoder().encode(`1700000000\nconanfile.py: ${md5(conanfile)}\n`);
  const base = `${serve.url}/v2/conans/${name}/${version}/${user}/${channel}/revisions/${md5(manifest)}/files`;
  for (const [file, body] of [['conanfile.py', conanfile], ['conanmanifest.txt', manifest]] as const) {
    const response = await fetch(`${base}/${file}`, { method: 'PUT', body, headers: { authorization: `Bearer ${token}` } });
    expect(response.status, `${ref} ${file}`).toBe(200);
  }
}

beforeAll(async () => {
  tmp = await tempDir('cimmeria-hostile-search-');
  const config = join(tmp.dir, 'cimmeria.json');
  await writeFile(
    config,
    JSON.stringify({
      users: { ci: await hashPassword('ci-password') },
      permissions: {
        read: [
          { pattern: 'secret/*@*/*', users: ['ci'] },
          { pattern: '*/*@*/*', users: ['*'] },
        ],
        write: [{ pattern: '*/*@*/*', users: ['ci'] }],
      },
    }),
  );
  serve = await startServe(['--port', '0', '--host', '127.0.0.1', '--data', join(tmp.dir, 'data'), '--config', config]);
  const login = await fetch(`${serve.url}/v2/users/authenticate`, { headers: { authorization: basicAuth('ci', 'ci-password') } });
  expect(login.status).toBe(200);
  token = await login.text();
  await publish('hello/1.0');
  await publish(PRIVATE_REF);
});

afterAll(async () => {
  // A server frozen by a pattern cannot handle SIGTERM: kill it after a grace.
  const stopped = serve?.stop();
  const grace = new Promise((resolve) => setTimeout(resolve, 5_000).unref());
  if ((await Promise.race([stopped, grace.then(() => 'frozen')])) === 'frozen') await serve.stop('SIGKILL');
  await tmp?.remove();
});

describe('issue 8 item 1: one search cannot freeze the server', () => {
  it('answers q of 20 stars + # and other many-star patterns quickly, while /v1/ping answers at once', async () => {
    const hostile = [
      `${'*'.repeat(20)}#`,
      `${'*'.repeat(11)}#`,
      `${'*h'.repeat(255)}#`,
      `${'*?'.repeat(255)}#`,
      `${'*[a-z]'.repeat(85)}#`,
      `${'*[!#]'.repeat(100)}#`,
    ];
    const searches = hostile.map((q) => search(q, { timeoutMs: 15_000 }));
    // The searches are in flight: the server must still answer others.
    const ping = await get('/v1/ping', { timeoutMs: 5_000 });
    expect(ping.status).toBe(200);
    const answers = await Promise.all(searches);
    expect(answers.map((a) => a.status)).toEqual(hostile.map(() => 200));
    expect(answers.map((a) => JSON.parse(a.text))).toEqual(hostile.map(() => ({ results: [] })));
    // Stars still match as they should.
    expect(JSON.parse((await search('*'.repeat(20), { token })).text).results).toEqual(['hello/1.0', PRIVATE_REF]);
    expect(JSON.parse((await search(`${'*'.repeat(20)}stable`, { token })).text).results).toEqual([PRIVATE_REF]);
  });

  it('treats malformed classes as Python fnmatch does, never a 5xx', async () => {
    for (const [q, results] of [
      ['[z-a]*', []],
      ['[!z-a]ello', ['hello/1.0']],
      ['[h', []],
      ['[]h]ello', ['hello/1.0']],
      ['[!]', []],
      ['[a-]*', []],
      ['[g-i]ello/1.0', ['hello/1.0']],
    ] as const) {
      const answer = await search(q);
      expect([q, answer.status]).toEqual([q, 200]);
      expect([q, JSON.parse(answer.text).results]).toEqual([q, results]);
    }
  });

  it('refuses a pattern longer than 512 characters with a 400 that says so', async () => {
    expect((await search('*'.repeat(512), { token })).status).toBe(200);
    const tooLong = await search('*'.repeat(513), { token });
    expect(tooLong.status).toBe(400);
    expect(tooLong.text).toContain('q must be at most 512 characters');
  });
});

describe('issue 8 item 4: anonymous search never names a private recipe', () => {
  it('answers 401 without naming what the caller may not read', async () => {
    for (const q of ['*', 'secret*', 's*', '*@corp/*', 'secret/1.0@corp/stable']) {
      const answer = await search(q);
      expect([q, answer.status]).toEqual([q, 401]);
      expect(answer.text).not.toMatch(/secret\/|corp|stable/);
      expect(answer.text).toBe('Login required to search these recipes');
    }
  });

  it('still lists public recipes to anonymous callers, and private ones to those who may read them', async () => {
    expect(JSON.parse((await search('hello*')).text).results).toEqual(['hello/1.0']);
    expect(JSON.parse((await search('*', { token })).text).results).toEqual(['hello/1.0', PRIVATE_REF]);
  });
});
