import { execFileSync, spawnSync } from 'node:child_process';
import { accessSync, constants, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';

const packageDir = new URL('..', import.meta.url).pathname;
const pkg = JSON.parse(readFileSync(join(packageDir, 'package.json'), 'utf8'));
const BIN = join(packageDir, pkg.bin.cimmeria);

describe('the cimmeria bin', () => {
  it('item 9: is a file of the repository, not of the build, so installing links it before anything is built', () => {
    // pnpm install links bins before `pnpm build`: a bin under dist/ does not exist yet and
    // every workspace package depending on the CLI warned "Failed to create bin".
    expect(relative(packageDir, BIN).split('/')[0]).not.toBe('dist');
    expect(() => execFileSync('git', ['ls-files', '--error-unmatch', BIN], { cwd: packageDir, stdio: 'pipe' })).not.toThrow();
    expect(() => accessSync(BIN, constants.X_OK)).not.toThrow();
    expect(pkg.files).toContain(relative(packageDir, BIN).split('/')[0]);
  });

  it('item 9: runs the built command', () => {
    const result = spawnSync(process.execPath, [BIN, '--version'], { encoding: 'utf8', timeout: 30_000 });
    expect(result.stdout).toBe(`${pkg.version}\n`);
    expect(result.status).toBe(0);
  });
});
