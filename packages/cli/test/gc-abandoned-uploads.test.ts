import { request } from 'node:http';
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { login, runCli, startServe, type ServeProcess } from './support/cli-process.js';
import { tempDirEachTest } from './support/hooks.js';

const MiB = 1024 * 1024;
const UPLOAD = '/v2/conans/crash/1.0/_/_/revisions/' + 'c'.repeat(32) + '/files/conan_sources.tgz';

const tmp = tempDirEachTest();
let server: ServeProcess | undefined;
let data: string;
beforeEach(async () => {
  data = join(tmp.dir, 'data');
});
afterEach(async () => {
  await server?.stop('SIGKILL');
  server = undefined;
});

/** Files (and their bytes) under the fs store's temporary upload folder. */
async function tempFiles(): Promise<{ count: number; bytes: number }> {
  const dir = join(data, 'blobs', '.tmp');
  const names = await readdir(dir).catch(() => [] as string[]);
  let bytes = 0;
  for (const name of names) bytes += (await stat(join(dir, name))).size;
  return { count: names.length, bytes };
}

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/**
 * Starts an upload announcing 64 MiB, sends `sentBytes` of it, and kills the
 * server with SIGKILL once those bytes are on disk: what a crashed node leaves.
 */
async function killServerMidUpload(sentBytes: number): Promise<void> {
  server = await startServe(['--port', '0', '--host', '127.0.0.1', '--data', data]);
  const { token } = await login(server.url, 'admin', /password: (\S+)/.exec(server.stderr())![1]!);
  const put = request(`${server.url}${UPLOAD}`, {
    method: 'PUT',
    headers: { authorization: `Bearer ${token}`, 'content-length': String(64 * MiB) },
  });
  const ended = new Promise<void>((resolve) => {
    put.on('error', () => resolve());
    put.on('response', (response) => {
      response.resume();
      response.on('close', () => resolve());
    });
  });
  put.write(Buffer.alloc(sentBytes, 7));
  await until('the upload to reach the disk', async () => ((await tempFiles()).bytes >= sentBytes ? true : undefined));
  expect(await server.stop('SIGKILL')).toBeNull();
  server = undefined;
  await ended;
}

describe('cimmeria gc and crashed uploads', () => {
  it(
    'item 10 of issue 8: the temp file of an upload whose server was killed is removed by gc --grace 0s, ' +
      'kept by gc with the default grace and by --dry-run',
    async () => {
      await killServerMidUpload(2 * MiB);
      const left = await tempFiles();
      expect(left.count).toBe(1);
      expect(left.bytes).toBe(2 * MiB);

      // The default grace period (24 h) protects uploads that may still be running.
      const young = await runCli(['gc', '--data', data]);
      expect(young.code, young.stderr).toBe(0);
      expect(young.stdout).toContain('removed 0 abandoned upload(s), 0 B');
      expect(await tempFiles()).toEqual(left);

      const dry = await runCli(['gc', '--data', data, '--grace', '0s', '--dry-run']);
      expect(dry.code, dry.stderr).toBe(0);
      expect(dry.stdout).toContain('would remove 1 abandoned upload(s), 2.0 MiB');
      expect(await tempFiles()).toEqual(left);

      const run = await runCli(['gc', '--data', data, '--grace', '0s']);
      expect(run.code, run.stderr).toBe(0);
      expect(run.stdout).toContain('removed 1 abandoned upload(s), 2.0 MiB');
      expect(await tempFiles()).toEqual({ count: 0, bytes: 0 });

      // The store still works afterwards, and nothing is left to do.
      const again = await runCli(['gc', '--data', data, '--grace', '0s']);
      expect(again.stdout).toContain('removed 0 abandoned upload(s), 0 B');
    },
  );
});
