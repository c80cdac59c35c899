#!/usr/bin/env node
// Builds the workspace packages when a dist/ is missing or older than its sources,
// so `pnpm start` and `pnpm test` always run what the sources say.
import { execSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

// Before a minute of building: on an older Node the server would only crash at the end of it.
const MINIMUM_NODE_MAJOR = 22; // as "engines" in package.json says
if (Number(process.versions.node.split('.')[0]) < MINIMUM_NODE_MAJOR) {
  console.error(`Cimmeria needs Node.js ${MINIMUM_NODE_MAJOR} or newer (this is ${process.versions.node})`);
  process.exit(1);
}

const root = new URL('..', import.meta.url).pathname;

function newest(dir) {
  let latest = 0;
  if (!existsSync(dir)) return latest;
  for (const entry of readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (entry.isFile()) latest = Math.max(latest, statSync(join(entry.parentPath, entry.name)).mtimeMs);
  }
  return latest;
}

const packages = readdirSync(join(root, 'packages')).filter((name) => existsSync(join(root, 'packages', name, 'package.json')));
const stale = packages.filter((name) => {
  const pkg = join(root, 'packages', name);
  const dist = join(pkg, 'dist');
  if (!existsSync(dist)) return true;
  const configs = ['package.json', 'tsup.config.ts'].filter((f) => existsSync(join(pkg, f)));
  const sources = Math.max(newest(join(pkg, 'src')), ...configs.map((f) => statSync(join(pkg, f)).mtimeMs));
  return sources > newest(dist);
});

if (stale.length > 0) {
  // A first build takes a while: say so, or a silent minute looks like a hang.
  const firstRun = packages.every((name) => !existsSync(join(root, 'packages', name, 'dist')));
  console.error(firstRun ? 'Building Cimmeria (first run, about a minute)...' : `Building Cimmeria (${stale.join(', ')} changed)...`);
  execSync('pnpm -s build', { cwd: root, stdio: 'inherit' });
}
