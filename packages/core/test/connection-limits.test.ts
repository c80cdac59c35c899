import { request } from 'node:http';
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { serveNode, type NodeServer, type ServeNodeOptions } from '../src/node/index.js';

// Issue 8, item 7: connections that send nothing, dribble, stall or idle must not hold the
// server's sockets, and a flood of them must not lock real clients out.

const servers: NodeServer[] = [];
const sockets: net.Socket[] = [];
afterEach(async () => {
  for (const socket of sockets.splice(0)) socket.destroy();
  for (const server of servers.splice(0)) {
    server.server.closeAllConnections();
    await server.close();
  }
});

/** A server that answers `ok`, or for a PUT the number of body bytes it read. */
async function start(options: ServeNodeOptions): Promise<NodeServer> {
  const server = await serveNode(async (req) => {
    if (req.method !== 'PUT') return new Response('ok');
    let size = 0;
    const reader = req.body!.getReader();
    for (let read = await reader.read(); !read.done; read = await reader.read()) size += read.value.byteLength;
    return new Response(String(size));
  }, options);
  servers.push(server);
  return server;
}

/** A raw TCP connection to the server, with a promise of when it is closed (ms after opening). */
async function connect(server: NodeServer): Promise<{ socket: net.Socket; closed: Promise<number> }> {
  const socket = net.connect(server.port, '127.0.0.1');
  sockets.push(socket);
  socket.on('error', () => {});
  // Read (and drop) what the server sends: Node's own headers timeout may
  // answer 408 before closing, and unread bytes hold back 'end' and 'close'.
  socket.resume();
  const opened = Date.now();
  const closed = new Promise<number>((resolve) => socket.once('close', () => resolve(Date.now() - opened)));
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  return { socket, closed };
}

/** `promise`'s value, or 'still open' after `ms`. */
function within<T>(promise: Promise<T>, ms: number): Promise<T | 'still open'> {
  return Promise.race([promise, new Promise<'still open'>((resolve) => setTimeout(() => resolve('still open'), ms).unref())]);
}

const connections = (server: NodeServer) =>
  new Promise<number>((resolve, reject) => server.server.getConnections((error, count) => (error ? reject(error) : resolve(count))));

async function until(condition: () => Promise<boolean> | boolean, what: string, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('item 7 of issue 8: connection limits of serveNode', () => {
  it('item 7: closes connections that open and send nothing after the headers timeout', async () => {
    const server = await start({ headersTimeoutMs: 400 });
    const opened = Date.now();
    const silent = await Promise.all([1, 2, 3].map(() => connect(server)));
    // The server lets go of them (counted on its side: on a loaded machine the clients may see the close late).
    await until(async () => (await connections(server)) === 0, 'the server to close the silent connections', 10_000);
    expect(Date.now() - opened).toBeGreaterThanOrEqual(350);
    for (const { closed } of silent) expect(await within(closed, 10_000)).not.toBe('still open');
    // The server still answers.
    expect(await (await fetch(`${server.url}/`)).text()).toBe('ok');
  });

  it('item 7: closes connections that dribble their headers after the headers timeout', async () => {
    const server = await start({ headersTimeoutMs: 600 });
    const { socket, closed } = await connect(server);
    const line = 'GET / HTTP/1.1\r\nHost: localhost\r\nX-Slow: ';
    let i = 0;
    // One byte every 50 ms: the connection is never idle, but its headers never end.
    const drip = setInterval(() => {
      if (!socket.destroyed) socket.write(line[i++ % line.length]!);
    }, 50);
    try {
      const ms = await within(closed, 4_000);
      expect(ms).not.toBe('still open');
      expect(ms).toBeGreaterThanOrEqual(550);
    } finally {
      clearInterval(drip);
    }
  });

  it('item 7: at the connection cap, silent connections make room: a real client is served at once', async () => {
    const server = await start({ maxConnections: 10, headersTimeoutMs: 20_000 });
    const silent = [];
    for (let n = 0; n < 15; n++) silent.push(await connect(server));
    // The cap holds: the five oldest silent connections were closed to make room for newer ones.
    await until(async () => (await connections(server)) === 10, 'the server to hold 10 connections');
    for (const { closed } of silent.slice(0, 5)) expect(await within(closed, 1_000)).not.toBe('still open');
    for (const { closed } of silent.slice(5)) expect(await within(closed, 50)).toBe('still open');

    // A real client gets its answer long before the headers timeout would reclaim anything.
    const answer = await within(fetch(`${server.url}/`).then((r) => r.text()), 5_000);
    expect(answer).toBe('ok');
    expect(await connections(server)).toBeLessThanOrEqual(10);
  });

  it('item 7: at the cap with every connection busy, a new connection is refused, and served once one frees up', async () => {
    const server = await start({ maxConnections: 2 });
    // Two uploads in progress hold both connections.
    const uploads = [1, 2].map(() => {
      const req = request(`${server.url}/upload`, { method: 'PUT', headers: { 'content-length': '6' } });
      const answer = new Promise<string>((resolve, reject) => {
        req.on('response', (res) => {
          let text = '';
          res.setEncoding('utf8').on('data', (d: string) => (text += d)).on('end', () => resolve(text));
        });
        req.on('error', reject);
      });
      req.write('abc');
      return { req, answer };
    });
    await until(async () => (await connections(server)) === 2, 'two uploads to connect');
    await pause(100);

    const refused = await connect(server);
    expect(await within(refused.closed, 2_000)).not.toBe('still open');

    for (const { req } of uploads) req.end('def');
    expect(await Promise.all(uploads.map((u) => u.answer))).toEqual(['6', '6']);
    await until(async () => (await connections(server)) < 2, 'a connection to free up');
    expect(await (await fetch(`${server.url}/`)).text()).toBe('ok');
  });

  it('item 7: a slow but steady upload that takes longer than the headers and idle timeouts succeeds', async () => {
    const server = await start({ headersTimeoutMs: 300, connectionIdleTimeoutMs: 600 });
    const chunk = Buffer.alloc(16 * 1024, 7);
    const chunks = 15;
    const req = request(`${server.url}/upload`, {
      method: 'PUT',
      headers: { 'content-length': String(chunk.length * chunks) },
    });
    const answer = new Promise<{ status: number; text: string }>((resolve, reject) => {
      req.on('response', (res) => {
        let text = '';
        res.setEncoding('utf8').on('data', (d: string) => (text += d)).on('end', () => resolve({ status: res.statusCode!, text }));
      });
      req.on('error', reject);
    });
    const started = Date.now();
    // 15 chunks, 150 ms apart: 2.1 s in all, 7x the headers timeout, but never 600 ms without a byte.
    for (let n = 0; n < chunks; n++) {
      req.write(chunk);
      await pause(150);
    }
    req.end();
    expect(await answer).toEqual({ status: 200, text: String(chunk.length * chunks) });
    expect(Date.now() - started).toBeGreaterThan(2 * 600);
  });

  it('item 7: cuts off a client that stalls in the middle of an upload after the idle timeout', async () => {
    const server = await start({ connectionIdleTimeoutMs: 500 });
    const { socket, closed } = await connect(server);
    socket.write('PUT /upload HTTP/1.1\r\nHost: localhost\r\nContent-Length: 1000\r\n\r\n' + 'x'.repeat(100));
    const ms = await within(closed, 4_000);
    expect(ms).not.toBe('still open');
    expect(ms).toBeGreaterThanOrEqual(450);
  });

  it('item 7: closes a kept-alive connection that sends no next request after the keep-alive timeout', async () => {
    const server = await start({ keepAliveTimeoutMs: 300 });
    const { socket, closed } = await connect(server);
    let answered = '';
    socket.on('data', (d: Buffer) => (answered += d.toString()));
    socket.write('GET / HTTP/1.1\r\nHost: localhost\r\n\r\n');
    await until(() => answered.endsWith('ok'), 'the first answer');
    expect(answered).toMatch(/keep-alive/i);
    expect(await within(closed, 3_000)).not.toBe('still open');
  });
});
