import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli, startServe } from './support/cli-process.js';
import { tempDirEachTest } from './support/hooks.js';

const rev = (c: string) => c.repeat(32);
const PKG = 'f'.repeat(40);

/** Writes files of a conan_server storage folder: path -> content (objects become JSON). */
async function writeStore(root: string, files: Record<string, string | object>): Promise<void> {
  for (const [path, content] of Object.entries(files)) {
    await mkdir(dirname(join(root, path)), { recursive: true });
    await writeFile(join(root, path), typeof content === 'string' ? content : JSON.stringify(content));
  }
}

const revisions = (...entries: [string, number][]) => ({ revisions: entries.map(([revision, time]) => ({ revision, time })) });

/** A store as conan_server leaves it, with some broken entries among good ones. */
function conanServerStore(): Record<string, string | object> {
  const hello = 'hello/1.0/_/_';
  return {
    [`${hello}/revisions.txt`]: revisions([rev('a'), 1600000000.5], [rev('b'), 1600000100.25]),
    [`${hello}/${rev('a')}/export/conanfile.py`]: 'print("a")\n',
    [`${hello}/${rev('a')}/export/conan_export.tgz`]: 'export-a',
    [`${hello}/${rev('a')}/export/conanmanifest.txt`]: 'manifest a\n',
    [`${hello}/${rev('b')}/export/conanfile.py`]: 'print("b")\n',
    [`${hello}/${rev('b')}/export/conanmanifest.txt`]: 'manifest b\n',
    [`${hello}/${rev('b')}/export/metadata/logs/build.log`]: 'built fine\n',
    [`${hello}/${rev('b')}/package/${PKG}/revisions.txt`]: revisions([rev('1'), 1600000200], [rev('2'), 1600000200]),
    [`${hello}/${rev('b')}/package/${PKG}/${rev('1')}/conaninfo.txt`]: '[settings]\nos=Linux\n',
    [`${hello}/${rev('b')}/package/${PKG}/${rev('1')}/conan_package.tgz`]: 'package-1',
    [`${hello}/${rev('b')}/package/${PKG}/${rev('1')}/conanmanifest.txt`]: 'pm1\n',
    [`${hello}/${rev('b')}/package/${PKG}/${rev('2')}/conaninfo.txt`]: '[settings]\nos=Windows\n',
    [`${hello}/${rev('b')}/package/${PKG}/${rev('2')}/conan_package.tgz`]: 'package-2',
    [`${hello}/${rev('b')}/package/${PKG}/${rev('2')}/conanmanifest.txt`]: 'pm2\n',
    [`${hello}/revisions.txt.lock`]: '',
    // A time as conan_server writes it (time.time()); conan_server shows it as ...310355.
    'precise/1.0/_/_/revisions.txt': revisions([rev('7'), 1795399518.3103554]),
    [`precise/1.0/_/_/${rev('7')}/export/conanmanifest.txt`]: 'precise\n',
    // A folder the index does not list: conan_server does not show it.
    [`${hello}/${rev('9')}/export/conanmanifest.txt`]: 'orphan\n',
    // User and channel.
    'lib/2.0/acme/stable/revisions.txt': revisions([rev('c'), 1700000000]),
    [`lib/2.0/acme/stable/${rev('c')}/export/conanfile.py`]: 'lib\n',
    [`lib/2.0/acme/stable/${rev('c')}/export/conanmanifest.txt`]: 'lib manifest\n',
    // Broken entries.
    'broken/1.0/_/_/revisions.txt': 'this is not JSON',
    [`broken/1.0/_/_/${rev('d')}/export/conanmanifest.txt`]: 'x',
    'zlib/1.0/_/_/revisions.txt': revisions([rev('e'), 1650000000], [rev('f'), 1650000001]),
    [`zlib/1.0/_/_/${rev('e')}/export/conanfile.py`]: 'no manifest here',
    [`zlib/1.0/_/_/${rev('f')}/export/conanfile.py`]: 'zlib f',
    [`zlib/1.0/_/_/${rev('f')}/export/conanmanifest.txt`]: 'zlib manifest',
    '-bad/1.0/_/_/revisions.txt': revisions([rev('a'), 1]),
  };
}

const tmp = tempDirEachTest();

describe('cimmeria import conan-server', () => {
  it('imports into the configured stores, exits 1 when it skipped entries, and serves the result; item 9: prints its summary once', async () => {
    const home = join(tmp.dir, 'conan_server');
    await writeStore(join(home, 'data'), conanServerStore());
    await writeFile(join(home, 'server.conf'), '[server]\n');
    const data = join(tmp.dir, 'cimmeria');
    const first = await runCli(['import', 'conan-server', home, '--data', data]);
    expect(first.code).toBe(1);
    expect(first.stdout).toContain('5 recipe revision(s) and 2 package revision(s) imported (17 files');
    expect(first.stdout).toContain('4 skipped');
    // Progress lines come once a second; this import is quicker, and its totals are printed once, on stdout.
    expect((first.stdout + first.stderr).match(/recipe revision\(s\) and/g)).toHaveLength(1);
    expect(first.stderr).toMatch(/^skipped .*broken\/1\.0\/_\/_\/revisions\.txt: /m);

    const files = async () => (await readdir(join(data, 'blobs', 'blobs'), { recursive: true })).length;
    const before = await files();
    const second = await runCli(['import', 'conan-server', home, '--data', data]);
    expect(second.stdout).toContain('0 recipe revision(s) and 0 package revision(s) imported (0 files, 0 B); 7 already present');
    expect(await files()).toBe(before);

    const server = await startServe(['--port', '0', '--host', '127.0.0.1', '--data', data]);
    try {
      const latest = await (await fetch(`${server.url}/v2/conans/hello/1.0/_/_/latest`)).json();
      expect(latest).toEqual({ revision: rev('b'), time: '2020-09-13T12:28:20.250000+00:00' });
      const file = await fetch(`${server.url}/v2/conans/hello/1.0/_/_/revisions/${rev('a')}/files/conan_export.tgz`);
      expect(await file.text()).toBe('export-a');
    } finally {
      await server.stop();
    }
  });

  it('explains its usage', async () => {
    expect((await runCli(['import', 'nexus', tmp.dir])).stderr).toContain("Unknown source 'nexus' (known: conan-server)");
    const missing = await runCli(['import', 'conan-server', join(tmp.dir, 'nope'), '--data', tmp.dir]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('is not a directory');
  });
});
