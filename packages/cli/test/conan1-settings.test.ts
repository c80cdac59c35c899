import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli, startServe } from './support/cli-process.js';
import { tempDirEachTest } from './support/hooks.js';

const tmp = tempDirEachTest();
const args = (data: string) => ['--port', '0', '--host', '127.0.0.1', '--data', data];
const capabilities = async (url: string) => (await fetch(`${url}/v1/ping`)).headers.get('x-conan-server-capabilities')!.split(',');

describe('Conan 1 settings of cimmeria serve', () => {
  it('serves the v1 protocol by default and advertises only_v2 with CIMMERIA_CONAN1_V1_MODE=false', async () => {
    const data = join(tmp.dir, 'data');
    const on = await startServe(args(data));
    try {
      expect(await capabilities(on.url)).not.toContain('only_v2');
    } finally {
      expect(await on.stop()).toBe(0);
    }
    const off = await startServe(args(data), { env: { CIMMERIA_CONAN1_V1_MODE: 'false' } });
    try {
      expect(await capabilities(off.url)).toContain('only_v2');
      const digest = await fetch(`${off.url}/v1/conans/hello/1.0/_/_/digest`);
      expect([digest.status, await digest.text()]).toEqual([404, expect.stringContaining('CONAN_REVISIONS_ENABLED=1')]);
    } finally {
      expect(await off.stop()).toBe(0);
    }
  });

  it('refuses a conan1PublicUrl that is no http(s) URL, naming the setting', async () => {
    const result = await runCli(['serve', ...args(join(tmp.dir, 'data'))], { env: { CIMMERIA_CONAN1_PUBLIC_URL: 'ftp://x' } });
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain('conan1PublicUrl');
  });
});
