#!/usr/bin/env node
// The `cimmeria` command. A plain file, not built: it exists before `pnpm build`
// (so installing links it), and it checks the Node.js version before anything is
// loaded. On Node 20 better-sqlite3 kills the process with a segmentation fault;
// this says why instead. Written in syntax old Node versions can still parse.
import { existsSync } from 'node:fs';

const MINIMUM_NODE_MAJOR = 22; // as "engines" in package.json says
const version = process.versions.node;

if (Number(version.split('.')[0]) < MINIMUM_NODE_MAJOR) {
  process.stderr.write('Cimmeria needs Node.js ' + MINIMUM_NODE_MAJOR + ' or newer (this is ' + version + ')\n');
  process.exit(1);
}

const main = new URL('../dist/bin.js', import.meta.url);
if (!existsSync(main)) {
  process.stderr.write("Cimmeria is not built: run 'pnpm build' in its repository first\n");
  process.exit(1);
}
import(main.href).catch((error) => {
  process.stderr.write(String((error && error.stack) || error) + '\n');
  process.exit(1);
});
