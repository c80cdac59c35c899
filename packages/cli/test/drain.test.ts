import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { login, startServe } from './support/cli-process.js';
import { tempDirEachTest } from './support/hooks.js';
import { slowUpload } from './support/slow-upload.js';

const sha1 = (bytes: Uint8Array | string) => createHash('sha1').update(bytes).digest('hex');
const FILES = '/v2/conans/drain/1.0/_/_/revisions/0123456789abcdef0123456789abcdef/files';

const tmp = tempDirEachTest();

const until = async (condition: () => boolean, what: string) => {
  for (let i = 0; i < 200 && !condition(); i++) await new Promise((resolve) => setTimeout(resolve, 25));
  if (!condition()) throw new Error(`timed out waiting for ${what}`);
};

describe('cimmeria serve shutdown', () => {
  it('drains on SIGTERM: not ready at once, still serving, then finishes the upload in flight and exits 0', async () => {
    const data = join(tmp.dir, 'data');
    const args = ['--port', '0', '--host', '127.0.0.1', '--data', data];
    const server = await startServe(args, { env: { CIMMERIA_DRAIN_DELAY_MS: '1500' } });
    const { token } = await login(server.url, 'admin', /password: (\S+)/.exec(server.stderr())![1]!);
    expect((await fetch(`${server.url}/readyz`)).status).toBe(200);

    const bytes = new Uint8Array(4 * 1024 * 1024).map((_, i) => i % 253);
    const upload = slowUpload(`${server.url}${FILES}/conan_export.tgz`, token, bytes, 1024 * 1024);
    await new Promise((resolve) => setTimeout(resolve, 200));
    const exited = server.stop('SIGTERM');
    await until(() => server.stdout().includes('draining'), 'the drain to start');

    const ready = await fetch(`${server.url}/readyz`);
    expect(ready.status).toBe(503);
    expect(await ready.json()).toEqual({ status: 'draining' });
    // Still serving during the delay, and asking clients to go elsewhere next time.
    const ping = await fetch(`${server.url}/v2/ping`);
    expect(ping.status).toBe(200);
    expect(ping.headers.get('connection')).toBe('close');

    await until(() => server.stdout().includes('no longer accepting'), 'the listener to close');
    await expect(fetch(`${server.url}/v2/ping`)).rejects.toThrow();
    upload.finish();
    expect(await upload.status).toBe(200);
    expect(await exited).toBe(0);

    // What was acknowledged is there after a restart.
    const again = await startServe(args);
    try {
      const manifest = await fetch(`${again.url}${FILES}/conanmanifest.txt`, {
        method: 'PUT',
        headers: { authorization: `Bearer ${token}`, 'x-checksum-sha1': sha1('m') },
        body: 'm',
      });
      expect(manifest.status).toBe(200);
      const file = await fetch(`${again.url}${FILES}/conan_export.tgz`);
      expect(sha1(new Uint8Array(await file.arrayBuffer()))).toBe(sha1(bytes));
    } finally {
      await again.stop();
    }
  });

  it('cuts off an upload still running after the shutdown timeout, and publishes nothing of it', async () => {
    const data = join(tmp.dir, 'data');
    const args = ['--port', '0', '--host', '127.0.0.1', '--data', data];
    const server = await startServe(args, { env: { CIMMERIA_SHUTDOWN_TIMEOUT_MS: '500' } });
    const { token } = await login(server.url, 'admin', /password: (\S+)/.exec(server.stderr())![1]!);
    const bytes = new Uint8Array(1024 * 1024);
    const upload = slowUpload(`${server.url}${FILES}/conan_export.tgz`, token, bytes, 1000);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(await server.stop('SIGTERM')).toBe(0);
    expect(await upload.status).toBe(-1);
    expect(server.stdout()).toContain('shutdown timeout');

    const again = await startServe(args);
    try {
      const files = await fetch(`${again.url}${FILES}`);
      expect(files.status).toBe(404);
    } finally {
      await again.stop();
    }
  });
});
