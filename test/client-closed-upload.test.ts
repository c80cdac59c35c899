import { connect } from 'node:net';
import { createConanHandler } from '@cimmeria/core';
import { serveNode, type NodeServer } from '@cimmeria/core/node';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { conformanceRegistry } from './support/conformance-registry.js';
import { login } from './support/login.js';

// Issue 8, item 12: a client cutting an upload short is a normal event. The
// handler answers it as such (a typed CLIENT_CLOSED, no 500) and does not
// report it to onError as a fault.

const FILE = '/v2/conans/hello/1.0/_/_/revisions/0123456789abcdef0123456789abcdef/files/conan_export.tgz';

let server: NodeServer;
let dispose: () => Promise<void>;
let reported: unknown[];
let answered: Array<{ method: string; status: number }>;
let token: string;

beforeEach(async () => {
  const made = await conformanceRegistry();
  dispose = made.dispose;
  reported = [];
  answered = [];
  const handler = createConanHandler(made.registry, { onError: (error) => reported.push(error) });
  server = await serveNode(async (request) => {
    const response = await handler(request);
    answered.push({ method: request.method, status: response.status });
    return response;
  });
  token = await login(server.url, 'demo', 'demo');
});

afterEach(async () => {
  await server.close();
  await dispose();
});

/** Sends the headers of a 1 MB upload and 100 kB of it, then closes the connection. */
async function cutUpload(): Promise<void> {
  const socket = connect(server.port, '127.0.0.1');
  await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
  socket.write(
    `PUT ${FILE} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${token}\r\nContent-Length: 1000000\r\n\r\n`,
  );
  await new Promise<void>((resolve) => socket.write(Buffer.alloc(100_000, 7), () => resolve()));
  // Give the server the bytes before the connection goes.
  await new Promise((resolve) => setTimeout(resolve, 200));
  socket.destroy();
}

async function until(condition: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('issue 8 item 12: an upload the client cuts off', () => {
  it('is answered as a client event, not reported to onError as a fault, and publishes nothing', async () => {
    await cutUpload();
    await until(() => answered.some((a) => a.method === 'PUT'), 'the handler to answer the cut upload');
    expect(answered.filter((a) => a.method === 'PUT')).toEqual([{ method: 'PUT', status: 400 }]);
    expect(reported).toEqual([]);
    const files = await fetch(`${server.url}${FILE.replace(/\/conan_export\.tgz$/, '')}`, {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(files.status).toBe(404);
    // The same upload sent whole then works.
    const whole = await fetch(`${server.url}${FILE}`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${token}` },
      body: new Uint8Array(1_000_000).fill(7),
    });
    expect(whole.status).toBe(200);
    expect(reported).toEqual([]);
  });
});
