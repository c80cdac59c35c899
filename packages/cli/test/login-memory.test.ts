import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { login, startServe } from './support/cli-process.js';
import { tempDirEachTest } from './support/hooks.js';

const tmp = tempDirEachTest();
const MiB = 1024 * 1024;

const rssOf = async (pid: number) => Number(/^VmRSS:\s+(\d+) kB/m.exec(await readFile(`/proc/${pid}/status`, 'utf8'))![1]) * 1024;

describe.runIf(process.platform === 'linux')('cimmeria serve memory after logins', () => {
  it('gives scrypt’s memory back: two dozen logins, eight at a time, leave the RSS where it was', async () => {
    const server = await startServe(['--port', '0', '--host', '127.0.0.1', '--data', join(tmp.dir, 'data'), '--log-level', 'warn']);
    try {
      const password = /password: (\S+)/.exec(server.stderr())![1]!;
      // The first one loads what a login needs (and frees glibc's first big block).
      expect((await login(server.url, 'admin', password)).status).toBe(200);
      const before = await rssOf(server.child.pid!);
      for (let round = 0; round < 3; round++) {
        const statuses = await Promise.all(Array.from({ length: 8 }, async () => (await login(server.url, 'admin', password)).status));
        expect(statuses.every((status) => status === 200)).toBe(true);
      }
      const grown = (await rssOf(server.child.pid!)) - before;
      // Each scrypt takes 16 MiB; kept by the C library, the growth was about 50 MiB.
      expect(grown).toBeLessThan(20 * MiB);
    } finally {
      await server.stop();
    }
  });
});
