#!/usr/bin/env node
// How much a user downloads: packs every package (`pnpm pack`), prints each
// tarball's size, then installs the tarballs with npm into empty folders, as
// a user installs from the registry, and prints the size of node_modules for
//   1. the CLI on SQLite only (`npm install --omit=optional cimmeria`: the
//      PostgreSQL and S3 backends are optional dependencies),
//   2. the CLI with PostgreSQL and S3 (`npm install cimmeria`),
//   3. embedding on SQLite and a local directory (core, metadata-sqlite, storage-fs),
//   4. embedding on PostgreSQL and S3 (core, metadata-postgres, storage-s3).
// Uses the npm cache (--prefer-offline): run it once to warm it. Prints the
// bytes of the files (independent of the file system) and `du -sk` (what the
// disk holds, as `du -sh node_modules` shows it).
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, lstatSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const env = Object.fromEntries(Object.entries(process.env).filter(([key]) => !/^npm_/i.test(key)));
const work = mkdtempSync(join(tmpdir(), 'cimmeria-install-size-'));
const mib = (bytes) => `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
const kib = (bytes) => `${(bytes / 1024).toFixed(0)} KiB`;

function bytesUnder(path) {
  const stat = lstatSync(path);
  if (!stat.isDirectory()) return stat.size;
  return readdirSync(path).reduce((sum, name) => sum + bytesUnder(join(path, name)), 0);
}

try {
  const packs = join(work, 'packs');
  mkdirSync(packs);
  const tarballs = {};
  console.log('tarball sizes (packed / unpacked):');
  for (const folder of readdirSync(join(root, 'packages')).sort()) {
    const dir = join(root, 'packages', folder);
    const { name, version } = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
    execFileSync('pnpm', ['pack', '--pack-destination', packs], { cwd: dir, env, stdio: 'ignore' });
    const file = join(packs, `${name.replace('@', '').replace('/', '-')}-${version}.tgz`);
    tarballs[name] = file;
    const unpacked = join(work, 'unpacked', folder);
    mkdirSync(unpacked, { recursive: true });
    execFileSync('tar', ['-xzf', file, '-C', unpacked]);
    console.log(`  ${name.padEnd(28)} ${kib(lstatSync(file).size).padStart(8)} / ${kib(bytesUnder(unpacked)).padStart(8)}`);
  }

  const installs = {
    'CLI, SQLite only (--omit=optional)': [['cimmeria'], ['--omit=optional']],
    'CLI with PostgreSQL + S3 (default)': [['cimmeria'], []],
    'embedding: core + metadata-sqlite + storage-fs': [['@cimmeria/core', '@cimmeria/metadata-sqlite', '@cimmeria/storage-fs'], []],
    'embedding: core + metadata-postgres + storage-s3': [['@cimmeria/core', '@cimmeria/metadata-postgres', '@cimmeria/storage-s3'], []],
  };
  console.log('install sizes (node_modules after npm install of the tarballs):');
  for (const [label, [names, flags]] of Object.entries(installs)) {
    const dir = join(work, label.replace(/\W+/g, '-'));
    mkdirSync(dir);
    writeFileSync(
      join(dir, 'package.json'),
      JSON.stringify({
        private: true,
        dependencies: Object.fromEntries(names.map((n) => [n, `file:${tarballs[n]}`])),
        // Dependencies between the packages resolve to the tarballs, not to the registry.
        overrides: Object.fromEntries(Object.entries(tarballs).map(([n, f]) => [n, `file:${f}`])),
      }),
    );
    execFileSync('npm', ['install', ...flags, '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error'], { cwd: dir, env, stdio: ['ignore', 'ignore', 'inherit'] });
    const modules = join(dir, 'node_modules');
    const count = readdirSync(modules).flatMap((n) => (n.startsWith('@') ? readdirSync(join(modules, n)) : [n])).length;
    const disk = Number(execFileSync('du', ['-sk', modules], { encoding: 'utf8' }).split('\t')[0]) * 1024;
    console.log(`  ${label.padEnd(50)} ${mib(bytesUnder(modules)).padStart(10)} of files, ${mib(disk).padStart(10)} on disk (${count} packages)`);
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}
