import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { findOldNode } from '../../../test/support/old-node.js';

const oldNode = findOldNode();
const packageDir = new URL('..', import.meta.url).pathname;

// What a host service on an old Node sees when it embeds the SQLite store.
const EMBED = `
try {
  const { createSqliteMetadataStore } = await import('@cimmeria/metadata-sqlite');
  const sqlite = createSqliteMetadataStore({ filename: ':memory:' });
  await sqlite.store.migrate();
  console.log('opened');
} catch (error) {
  console.log('error: ' + error.message);
}
`;

// Skipped only on a machine without any Node.js older than 22 to try.
describe.skipIf(!oldNode)(`on Node.js ${oldNode?.version ?? '< 22 (none found)'}`, () => {
  it('item 2: @cimmeria/metadata-sqlite throws a clear error instead of crashing the process (better-sqlite3 needs Node 22)', () => {
    // From the package's own folder, the import finds this package's build (a package may import itself by name).
    const result = spawnSync(oldNode!.path, ['--input-type=module', '-e', EMBED], {
      cwd: packageDir,
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(result.signal).toBeNull();
    expect(result.stdout).toBe(`error: Cimmeria needs Node.js 22 or newer (this is ${oldNode!.version})\n`);
    expect(result.status).toBe(0);
  });
});
