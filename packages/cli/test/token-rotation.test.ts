import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { login, startServe, type ServeProcess } from './support/cli-process.js';
import { tempDirEachTest } from './support/hooks.js';

const OLD = 'the-old-secret-of-the-cluster';
const NEW = 'the-new-secret-of-the-cluster';

const tmp = tempDirEachTest();
const servers: ServeProcess[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.stop()));
});

async function node(env: Record<string, string>): Promise<ServeProcess> {
  const server = await startServe(['--port', '0', '--host', '127.0.0.1', '--data', join(tmp.dir, 'shared')], { env });
  servers.push(server);
  return server;
}

const checkCredentials = async (url: string, token: string) =>
  (await fetch(`${url}/v2/users/check_credentials`, { headers: { authorization: `Bearer ${token}` } })).status;

describe('token secrets across nodes', () => {
  it('accepts tokens of any node sharing the secret, and of the previous secret during a rotation', async () => {
    const a = await node({ CIMMERIA_TOKEN_SECRET: OLD });
    const password = /password: (\S+)/.exec(a.stderr())![1]!;
    const oldToken = (await login(a.url, 'admin', password)).token;

    const b = await node({ CIMMERIA_TOKEN_SECRET: OLD });
    expect(await checkCredentials(b.url, oldToken)).toBe(200);

    // Rotation: the new secret signs, the old one still verifies.
    const rotated = await node({ CIMMERIA_TOKEN_SECRET: NEW, CIMMERIA_PREVIOUS_TOKEN_SECRETS: OLD });
    expect(await checkCredentials(rotated.url, oldToken)).toBe(200);
    const newToken = (await login(rotated.url, 'admin', password)).token;
    expect(await checkCredentials(rotated.url, newToken)).toBe(200);
    // A node not yet rotated does not know the new secret.
    expect(await checkCredentials(a.url, newToken)).toBe(401);

    // After the rotation, the old secret is dropped: its tokens are refused.
    const done = await node({ CIMMERIA_TOKEN_SECRET: NEW });
    expect(await checkCredentials(done.url, newToken)).toBe(200);
    expect(await checkCredentials(done.url, oldToken)).toBe(401);
  });
});
