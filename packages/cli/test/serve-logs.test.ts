import { connect } from 'node:net';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { startS3 } from '../../storage-s3/test/support/s3rver.js';
import { login, startServe, type ServeProcess } from './support/cli-process.js';
import { tempDirEachTest } from './support/hooks.js';

// Issue 8, items 4 and 12: what `cimmeria serve` writes to its JSON log for
// normal events that used to look like faults.

const tmp = tempDirEachTest();

const args = (data: string) => ['--port', '0', '--host', '127.0.0.1', '--data', data];
const FILE = '/v2/conans/hello/1.0/_/_/revisions/0123456789abcdef0123456789abcdef/files/conan_export.tgz';

type LogLine = Record<string, unknown> & { level: number; msg: string };
const logLines = (serve: ServeProcess): LogLine[] =>
  serve
    .stdout()
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as LogLine);

async function until(condition: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('cimmeria serve logs', () => {
  it('issue 8 item 12: an upload the client cuts off is one info line with the bytes received, no stack', async () => {
    const serve = await startServe(args(tmp.dir));
    try {
      const password = /password: (\S+)/.exec(serve.stderr())![1]!;
      const { token } = await login(serve.url, 'admin', password);
      const { port } = new URL(serve.url);
      const socket = connect(Number(port), '127.0.0.1');
      await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
      socket.write(`PUT ${FILE} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${token}\r\nContent-Length: 1000000\r\n\r\n`);
      await new Promise<void>((resolve) => socket.write(Buffer.alloc(100_000, 1), () => resolve()));
      await new Promise((resolve) => setTimeout(resolve, 300));
      socket.destroy();
      await until(() => logLines(serve).some((l) => l.path === FILE), 'the log line of the cut upload');
      // Whatever the handler logs about that upload comes before the answer to a later request.
      await fetch(`${serve.url}/v1/ping`);
      await until(() => logLines(serve).some((l) => l.path === '/v1/ping'), 'the log line of ping');
    } finally {
      expect(await serve.stop()).toBe(0);
    }
    const lines = logLines(serve);
    const upload = lines.filter((l) => l.path === FILE);
    expect(upload).toHaveLength(1);
    expect(upload[0]).toMatchObject({ level: 30, method: 'PUT', aborted: true });
    expect(upload[0]!.status).toBeUndefined();
    expect(upload[0]!.bytesReceived).toBeGreaterThanOrEqual(100_000);
    expect(upload[0]!.msg).toMatch(/^PUT \S+ - [\d.]+ms \(connection closed early, \d+ bytes received\)$/);
    expect(lines.filter((l) => l.level >= 40)).toEqual([]);
    expect(serve.stdout()).not.toContain('"stack"');
  });

  it('issue 8 item 4: a failed readiness check shows only "unavailable"; the details are a warn line, no stack', async () => {
    // The store answers at start (serve checks it: issue 11 item 7), then goes away.
    const s3 = await startS3();
    const bucket = await s3.createBucket(s3.client());
    const storage = `s3://${bucket}?endpoint=${encodeURIComponent(s3.endpoint)}&forcePathStyle=true&region=us-east-1&accessKeyId=S3RVER&secretAccessKey=S3RVER`;
    const serve = await startServe([...args(tmp.dir), '--storage', storage]);
    await s3.close();
    let body: unknown;
    try {
      const ready = await fetch(`${serve.url}/readyz`);
      expect(ready.status).toBe(503);
      body = await ready.json();
      await until(() => logLines(serve).some((l) => l.path === '/readyz' && 'status' in l), 'the log line of /readyz');
    } finally {
      expect(await serve.stop()).toBe(0);
    }
    expect(body).toEqual({ status: 'unavailable', checks: { metadata: 'ok', blobs: 'unavailable' } });
    const warnings = logLines(serve).filter((l) => l.level >= 40);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatchObject({ level: 40, path: '/readyz', check: 'blobs', outcome: 'unavailable' });
    expect(warnings[0]!.msg).toMatch(/^Readiness check of the blobs store: S3 blob store unavailable/);
    expect(serve.stdout()).not.toContain('"stack"');
    expect(serve.stdout()).not.toContain('request failed');
  });
});
