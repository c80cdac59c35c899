import { createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli, startServe } from './support/cli-process.js';
import { tempDirEachTest } from './support/hooks.js';
import { s3BucketForAll } from './support/s3-bucket.js';

const SECRET = 'hunter2-never-printed';
// No credentials from this machine's AWS setup may leak into the "no credentials" case.
const NO_AWS_CHAIN = {
  AWS_ACCESS_KEY_ID: '',
  AWS_SECRET_ACCESS_KEY: '',
  AWS_SESSION_TOKEN: '',
  AWS_PROFILE: '',
  AWS_WEB_IDENTITY_TOKEN_FILE: '',
  AWS_CONTAINER_CREDENTIALS_RELATIVE_URI: '',
  AWS_CONTAINER_CREDENTIALS_FULL_URI: '',
  AWS_SHARED_CREDENTIALS_FILE: '/nonexistent/credentials',
  AWS_CONFIG_FILE: '/nonexistent/config',
  AWS_EC2_METADATA_DISABLED: 'true',
};

const tmp = tempDirEachTest();

/** Runs `cimmeria serve` with this storage: how it ended if it refused to start, or a failure if it listened. */
async function refusedServe(storage: string, env: Record<string, string> = {}): Promise<{ code: number; output: string; ms: number }> {
  const started = Date.now();
  const outcome = await startServe(['--port', '0', '--host', '127.0.0.1', '--data', join(tmp.dir, 'data'), '--storage', storage], { env }).then(
    async (serve) => {
      await serve.stop();
      return undefined;
    },
    (error: Error) => error.message,
  );
  expect(outcome, 'serve should refuse to start, not print "Cimmeria listening"').toBeDefined();
  const code = Number(/exited with (\d+) before listening/.exec(outcome!)?.[1]);
  return { code, output: outcome!, ms: Date.now() - started };
}

describe('item 7: cimmeria serve checks the blob store at start, as it checks the database', () => {
  const s3 = s3BucketForAll();
  const endpoint = () => `endpoint=${encodeURIComponent(s3.endpoint)}&forcePathStyle=true`;

  it('a wrong endpoint: exits 1 at once, naming the (redacted) store and the connection error', async () => {
    const storage = `s3://${s3.bucket}?endpoint=http://127.0.0.1:1&forcePathStyle=true&accessKeyId=S3RVER&secretAccessKey=${SECRET}`;
    const { code, output } = await refusedServe(storage);
    expect(code).toBe(1);
    expect(output).toContain(
      `Cannot use the blob store s3://${s3.bucket}?endpoint=http%3A%2F%2F127.0.0.1%3A1&forcePathStyle=true&accessKeyId=S3RVER&secretAccessKey=***: `,
    );
    expect(output).toContain('ECONNREFUSED 127.0.0.1:1');
    expect(output).not.toContain(SECRET);
    // The other commands that use the blob store say the same.
    const gc = await runCli(['gc', '--data', join(tmp.dir, 'data'), '--storage', storage]);
    expect(gc.stderr).toContain('Cannot use the blob store');
    expect(gc.code).toBe(1);
  });

  it('no credentials anywhere: exits 1 saying so', async () => {
    const { code, output } = await refusedServe(`s3://${s3.bucket}?${endpoint()}`, NO_AWS_CHAIN);
    expect(code).toBe(1);
    expect(output).toContain(`Cannot use the blob store s3://${s3.bucket}?`);
    expect(output).toContain('no S3 credentials found');
  });

  it('credentials the store refuses: exits 1 with access denied', async () => {
    const { code, output } = await refusedServe(`s3://${s3.bucket}?${endpoint()}&accessKeyId=nobody&secretAccessKey=${SECRET}`);
    expect(code).toBe(1);
    expect(output).toContain('access denied (HTTP 403)');
    expect(output).not.toContain(SECRET);
  });

  it('a bucket that does not exist: exits 1 with no such bucket', async () => {
    const { code, output } = await refusedServe(`s3://no-such-bucket-here?${endpoint()}&accessKeyId=S3RVER&secretAccessKey=S3RVER`);
    expect(code).toBe(1);
    expect(output).toContain('Cannot use the blob store s3://no-such-bucket-here?');
    expect(output).toContain('no such bucket');
  });

  it('a store that accepts connections and never answers: exits 1 within 3× the 10 s deadline instead of hanging', async () => {
    const sockets = new Set<Socket>();
    const silent: Server = createServer((socket) => {
      sockets.add(socket);
      socket.on('error', () => {});
    });
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    try {
      const port = (silent.address() as { port: number }).port;
      const { code, output, ms } = await refusedServe(
        `s3://${s3.bucket}?endpoint=http://127.0.0.1:${port}&forcePathStyle=true&accessKeyId=S3RVER&secretAccessKey=S3RVER`,
      );
      expect(code).toBe(1);
      expect(output).toContain('no answer within 10 s');
      expect(ms).toBeLessThan(30_000);
    } finally {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => silent.close(resolve));
    }
  });

  it('a working bucket: serves', async () => {
    const serve = await startServe(
      ['--port', '0', '--host', '127.0.0.1', '--data', join(tmp.dir, 'data'), '--storage', `s3://${s3.bucket}/ok?${endpoint()}&accessKeyId=S3RVER&secretAccessKey=S3RVER`],
    );
    try {
      expect((await fetch(`${serve.url}/readyz`)).status).toBe(200);
    } finally {
      expect(await serve.stop()).toBe(0);
    }
  });
});
