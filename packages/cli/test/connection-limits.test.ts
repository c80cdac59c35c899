import { createHash } from 'node:crypto';
import { request } from 'node:http';
import net from 'node:net';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { login, startServe } from './support/cli-process.js';
import { tempDirEachTest } from './support/hooks.js';

// Issue 8, item 7: the connection settings of `cimmeria serve` reach its server.

const tmp = tempDirEachTest();
const sockets: net.Socket[] = [];
afterEach(async () => {
  for (const socket of sockets.splice(0)) socket.destroy();
});

const FILES = '/v2/conans/slow/1.0/_/_/revisions/0123456789abcdef0123456789abcdef/files';
const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A raw connection, and a promise of its closing ('still open' once `boundMs` pass). */
async function silentConnection(url: string, boundMs: number): Promise<{ closed: Promise<number | 'still open'> }> {
  const { port } = new URL(url);
  const socket = net.connect(Number(port), '127.0.0.1');
  sockets.push(socket);
  socket.on('error', () => {});
  const opened = Date.now();
  await new Promise((resolve) => socket.once('connect', resolve));
  const closed = Promise.race([
    new Promise<number>((resolve) => socket.once('close', () => resolve(Date.now() - opened))),
    new Promise<'still open'>((resolve) => setTimeout(() => resolve('still open'), boundMs).unref()),
  ]);
  return { closed };
}

describe('item 7 of issue 8: connection limits of cimmeria serve', () => {
  it('item 7: closes silent connections after headersTimeoutMs, keeps maxConnections, serves real clients meanwhile, and lets a slow steady upload finish', async () => {
    const server = await startServe(['--port', '0', '--host', '127.0.0.1', '--data', join(tmp.dir, 'data')], {
      env: {
        CIMMERIA_HEADERS_TIMEOUT_MS: '600',
        CIMMERIA_CONNECTION_IDLE_TIMEOUT_MS: '1000',
        CIMMERIA_KEEP_ALIVE_TIMEOUT_MS: '500',
        CIMMERIA_MAX_CONNECTIONS: '6',
      },
    });
    try {
      const { token } = await login(server.url, 'admin', /password: (\S+)/.exec(server.stderr())![1]!);
      await pause(700); // the login's kept-alive connection is gone

      // Eight silent connections against a cap of six: the two oldest make room at once.
      const silent: Array<Promise<number | 'still open'>> = [];
      for (let n = 0; n < 8; n++) silent.push((await silentConnection(server.url, 4_000)).closed);
      // A real client is served now (a refused connection would make fetch throw), not after
      // the silent ones time out: the oldest silent one makes room for it.
      expect((await fetch(`${server.url}/v2/ping`)).status).toBe(200);

      const closedAfter = await Promise.all(silent);
      for (const ms of closedAfter) expect(ms).not.toBe('still open');
      // The others were closed by the headers timeout.
      expect((closedAfter.slice(3) as number[]).every((ms) => ms >= 550)).toBe(true);

      // An upload sending a little every 200 ms for 2.4 s: four times the headers timeout, twice
      // the idle timeout, never idle.
      const body = Buffer.alloc(12 * 8 * 1024, 1);
      const req = request(`${server.url}${FILES}/conan_export.tgz`, {
        method: 'PUT',
        headers: {
          authorization: `Bearer ${token}`,
          'content-length': String(body.length),
          'x-checksum-sha1': createHash('sha1').update(body).digest('hex'),
        },
      });
      const status = new Promise<number>((resolve, reject) => {
        req.on('response', (res) => {
          res.resume();
          resolve(res.statusCode!);
        });
        req.on('error', reject);
      });
      for (let n = 0; n < 12; n++) {
        req.write(body.subarray(n * 8 * 1024, (n + 1) * 8 * 1024));
        await pause(200);
      }
      req.end();
      expect(await status).toBe(200);
    } finally {
      await server.stop();
    }
  });
});
