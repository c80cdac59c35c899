#!/usr/bin/env node
// Builds the workspace packages when a dist/ is missing or older than its sources,
// so `pnpm start` and `pnpm test` always run what the sources say.
import { execSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;

function newest(dir) {
  let latest = 0;
  if (!existsSync(dir)) return latest;
  for (const entry of readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (entry.isFile()) latest = Math.max(latest, statSync(join(entry.parentPath, entry.name)).mtimeMs);
  }
  return latest;
}

const stale = readdirSync(join(root, 'packages')).filter((name) => {
  const pkg = join(root, 'packages', name);
  if (!existsSync(join(pkg, 'package.json'))) return false;
  const dist = join(pkg, 'dist');
  if (!existsSync(dist)) return true;
  const configs = ['package.json', 'tsup.config.ts'].filter((f) => existsSync(join(pkg, f)));
  const sources = Math.max(newest(join(pkg, 'src')), ...configs.map((f) => statSync(join(pkg, f)).mtimeMs));
  return sources > newest(dist);
});

if (stale.length > 0) {
  console.error(`Building (${stale.join(', ')} changed)...`);
  execSync('pnpm -s build', { cwd: root, stdio: 'inherit' });
}
