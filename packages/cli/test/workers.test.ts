import { createHash } from 'node:crypto';
import { rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { request } from 'node:http';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { login, runCli, startServe, type ServeProcess } from './support/cli-process.js';
import { tempDirForAll } from './support/hooks.js';
import { slowUpload } from './support/slow-upload.js';

const sha1 = (bytes: Uint8Array | string) => createHash('sha1').update(bytes).digest('hex');
const FILES = '/v2/conans/workers/1.0/_/_/revisions/0123456789abcdef0123456789abcdef/files';

interface LogLine {
  msg: string;
  pid: number;
  worker?: number;
  role?: string;
  workerPid?: number;
}

const logLines = (server: ServeProcess): LogLine[] =>
  server
    .stdout()
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as LogLine);

const until = async <T>(probe: () => T | undefined, what: string): Promise<T> => {
  for (let i = 0; i < 400; i++) {
    const value = probe();
    if (value !== undefined) return value;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(`timed out waiting for ${what}`);
};

/** The primary's `worker ready` lines of both workers (stdout may come after the listening line on stderr). */
const readyWorkers = (server: ServeProcess) =>
  until(() => {
    const ready = logLines(server).filter((line) => line.msg === 'worker ready');
    return ready.length >= 2 ? ready : undefined;
  }, 'both workers to be logged ready');

/** One request on a connection of its own (the cluster hands connections to workers in turn). */
function send(url: string, method: string, path: string, headers: Record<string, string | number> = {}, body?: Uint8Array | string, timeoutMs?: number) {
  return new Promise<{ status: number; body: Buffer; headers: Record<string, unknown> }>((resolve, reject) => {
    const req = request(`${url}${path}`, { method, headers: { ...headers, connection: 'close' }, agent: false, timeout: timeoutMs }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode!, body: Buffer.concat(chunks), headers: res.headers }));
    });
    req.on('error', reject);
    req.on('timeout', () => req.destroy(Object.assign(new Error('timed out'), { code: 'ETIMEDOUT' })));
    req.end(body);
  });
}

/** Sends a request and returns its answer and the worker that logged it. */
async function sendLogged(server: ServeProcess, method: string, path: string, headers?: Record<string, string | number>, body?: Uint8Array | string) {
  const prefix = `${method} ${path} `;
  const before = logLines(server).filter((line) => line.msg.startsWith(prefix)).length;
  const response = await send(server.url, method, path, headers, body);
  const line = await until(() => logLines(server).filter((l) => l.msg.startsWith(prefix))[before], `the log of ${prefix}`);
  return { ...response, worker: line.worker!, pid: line.pid };
}

const data = tempDirForAll('cimmeria-workers-');

describe('cimmeria serve --workers 2', () => {
  let server: ServeProcess;
  let token: string;
  const bytes = new Uint8Array(256 * 1024).map((_, i) => i % 251);

  beforeAll(async () => {
    server = await startServe(['--port', '0', '--host', '127.0.0.1', '--data', join(data.dir, 'data'), '--workers', '2'], {
      env: { CIMMERIA_DRAIN_DELAY_MS: '500' },
      timeoutMs: 60_000,
    });
    token = (await login(server.url, 'admin', /password: (\S+)/.exec(server.stderr())![1]!)).token;
  }, 90_000);
  afterAll(async () => {
    await server?.stop('SIGKILL');
  });

  it('starts two worker processes once the first has migrated, and prints the admin password and listening line once', async () => {
    expect(server.stderr().match(/Created user 'admin'/g)).toHaveLength(1);
    expect(server.stderr().match(/Cimmeria listening on/g)).toHaveLength(1);
    expect(server.stderr()).toMatch(/Cimmeria listening on http:\/\/127\.0\.0\.1:\d+ with 2 workers/);
    const ready = await readyWorkers(server);
    expect(ready.map((line) => line.worker).sort()).toEqual([1, 2]);
    const pids = new Set([server.child.pid, ...ready.map((line) => line.workerPid)]);
    expect(pids.size).toBe(3);
  });

  it('serves from both workers: a file uploaded through one is read through the other', async () => {
    const upload = await sendLogged(server, 'PUT', `${FILES}/conan_export.tgz`, { authorization: `Bearer ${token}`, 'x-checksum-sha1': sha1(bytes) }, bytes);
    expect(upload.status).toBe(200);
    const manifest = await sendLogged(server, 'PUT', `${FILES}/conanmanifest.txt`, { authorization: `Bearer ${token}`, 'x-checksum-sha1': sha1('m') }, 'm');
    expect(manifest.status).toBe(200);
    const readers = new Set<number>();
    for (let i = 0; i < 6 && !(readers.has(1) && readers.has(2)); i++) {
      const read = await sendLogged(server, 'GET', `${FILES}/conan_export.tgz`);
      expect(read.status).toBe(200);
      expect(sha1(read.body)).toBe(sha1(bytes));
      readers.add(read.worker);
    }
    expect([...readers].sort()).toEqual([1, 2]);
    expect(readers.has(upload.worker)).toBe(true);
  });

  it('answers /metrics with the sum of every worker, whichever worker takes the scrape', async () => {
    const pings = async () => {
      const text = (await send(server.url, 'GET', '/metrics')).body.toString('utf8');
      const line = text.split('\n').find((l) => l.startsWith('cimmeria_http_requests_total{') && l.includes('operation="ping"'));
      return line === undefined ? 0 : Number(line.slice(line.lastIndexOf(' ') + 1));
    };
    const before = await pings();
    const servedBy = new Set<number>();
    for (let i = 0; i < 4; i++) servedBy.add((await sendLogged(server, 'GET', '/v2/ping')).worker);
    expect([...servedBy].sort()).toEqual([1, 2]);
    // Two scrapes on two connections: one per worker, the same sum.
    expect(await pings()).toBe(before + 4);
    expect(await pings()).toBe(before + 4);
  });

  it('replaces a worker that dies', async () => {
    const second = (await readyWorkers(server)).find((line) => line.worker === 2)!;
    process.kill(second.workerPid!, 'SIGKILL');
    const replaced = await until(() => logLines(server).find((line) => line.msg === 'worker replaced'), 'the replacement');
    expect(replaced.worker).toBe(2);
    expect(replaced.workerPid).not.toBe(second.workerPid);
    const exited = logLines(server).find((line) => line.msg.startsWith('worker exited unexpectedly'));
    expect(exited).toMatchObject({ worker: 2, workerPid: second.workerPid });
    const pids = new Set<number>();
    for (let i = 0; i < 6 && pids.size < 2; i++) {
      const ping = await sendLogged(server, 'GET', '/v2/ping');
      expect(ping.status).toBe(200);
      pids.add(ping.pid);
    }
    expect(pids.has(replaced.workerPid!)).toBe(true);
  });

  it('drains every worker on SIGTERM: an upload in flight finishes, then the primary exits 0', async () => {
    const big = new Uint8Array(2 * 1024 * 1024).map((_, i) => i % 241);
    const upload = slowUpload(`${server.url}${FILES.replace('workers/1.0', 'drained/1.0')}/conan_export.tgz`, token, big, 512 * 1024);
    await new Promise((resolve) => setTimeout(resolve, 200));
    const exited = server.stop('SIGTERM');
    await until(() => (logLines(server).filter((line) => line.msg === 'no longer accepting connections; finishing requests in flight').length >= 2 ? true : undefined), 'both workers to stop accepting');
    // Then the primary closes the port. A connection it took while the last worker was
    // closing may wait in node:cluster's queue: probe again until the port refuses.
    const refused = async () => {
      for (let i = 0; i < 20; i++) {
        const error = await send(server.url, 'GET', '/v2/ping', {}, undefined, 1000).then(() => undefined, (e: NodeJS.ErrnoException) => e);
        if (error?.code === 'ECONNREFUSED') return true;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      return false;
    };
    expect(await refused()).toBe(true);
    upload.finish();
    expect(await upload.status).toBe(200);
    expect(await exited).toBe(0);
    const stopped = logLines(server).filter((line) => line.msg === 'worker stopped');
    expect(stopped).toHaveLength(2);
  });
});

describe('cimmeria serve --workers 2, failing to start', () => {
  it('exits with the error once when the port is taken, leaving no worker behind', async () => {
    const busy = createServer();
    await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', resolve));
    const port = (busy.address() as { port: number }).port;
    try {
      const result = await runCli(['serve', '--port', String(port), '--host', '127.0.0.1', '--data', join(data.dir, 'busy'), '--workers', '2']);
      expect(result.code).toBe(1);
      expect(result.stderr.match(/Cannot listen on 127\.0\.0\.1:\d+/g)).toHaveLength(1);
      expect(result.stdout).toContain('worker failed to start');
    } finally {
      busy.close();
    }
  }, 60_000);
});

describe('cimmeria serve --workers 2, when replacements cannot start', () => {
  it('gives up with exit code 1 once no worker is left and replacements fail at start, rather than restart them in a loop', async () => {
    const dir = join(data.dir, 'doomed');
    const server = await startServe(['--port', '0', '--host', '127.0.0.1', '--data', dir, '--workers', '2'], { timeoutMs: 60_000 });
    try {
      const pids = (await readyWorkers(server)).map((line) => line.workerPid!);
      expect(pids).toHaveLength(2);
      // The data directory becomes a file: every new worker fails to open the database.
      await rm(dir, { recursive: true, force: true });
      await writeFile(dir, 'not a directory');
      for (const pid of pids) process.kill(pid, 'SIGKILL');
      // SIGCONT changes nothing in a running process: this only waits for the primary to exit.
      expect(await server.stop('SIGCONT')).toBe(1);
      const messages = logLines(server).map((line) => line.msg);
      expect(messages).toContain('no worker left and its replacement failed to start; exiting');
      // Each slot was tried once or twice, with a growing delay: not a loop.
      expect(messages.filter((msg) => msg.startsWith('worker exited unexpectedly')).length).toBeLessThanOrEqual(4);
    } finally {
      await server.stop('SIGKILL');
    }
  }, 90_000);
});
