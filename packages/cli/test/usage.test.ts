import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from './support/cli-process.js';
import { tempDirEachTest } from './support/hooks.js';

const tmp = tempDirEachTest();

describe('command help', () => {
  it('item 9: migrate and user do not offer --storage, which they never use; gc and import do', async () => {
    for (const command of ['migrate', 'user']) {
      const help = await runCli([command, '--help']);
      expect(help.code, command).toBe(0);
      expect(help.stdout, command).toContain('--database URL');
      expect(help.stdout, command).not.toContain('--storage');
    }
    for (const command of ['gc', 'import', 'serve']) {
      expect((await runCli([command, '--help'])).stdout, command).toContain('--storage URL');
    }
  });

  it('item 9: migrate and user still accept --storage, so one set of flags serves every command', async () => {
    const flags = ['--data', join(tmp.dir, 'data'), '--storage', `fs:${join(tmp.dir, 'blobs')}`];
    expect((await runCli(['migrate', ...flags])).code).toBe(0);
    expect((await runCli(['user', 'add', 'ci', '--password', 'ci-pass', ...flags])).code).toBe(0);
    expect((await runCli(['user', 'list', ...flags])).stdout).toBe('ci\n');
  });
});
