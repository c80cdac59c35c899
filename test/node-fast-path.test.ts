import { createHash } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { createConanHandler, type FetchHandler } from '@cimmeria/core';
import { serveNode } from '@cimmeria/core/node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withDirectBody } from '../packages/core/src/http/node-fast-path.js';
import { conformanceRegistry } from './support/conformance-registry.js';

/**
 * The Node bridge writes small answers (JSON, text, empty, errors) straight
 * to the socket instead of reading their web body back. What a client sees
 * must not change: status, headers the handler set, content-length in
 * bytes, no body on HEAD, big bodies whole.
 */

interface Answer {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

function send(url: string, method = 'GET', headers: Record<string, string> = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { method, headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

const RECIPE = '/v2/conans/hello/1.0/_/_';
const RREV = 'b7c1e1b3f0a94a6c8e2d5f4a3b2c1d0e';
const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
const sha1 = (text: string) => createHash('sha1').update(text).digest('hex');

describe('Node bridge fast path for small answers', () => {
  let handler: FetchHandler;
  let dispose: () => Promise<void>;

  beforeAll(async () => {
    const made = await conformanceRegistry();
    dispose = made.dispose;
    handler = createConanHandler(made.registry);
    const token = await (await handler(new Request('http://x/v2/users/authenticate', { headers: { authorization: basic('demo', 'demo') } }))).text();
    const conanfile = 'from conan import ConanFile\n';
    const files: Record<string, string> = {
      'conanfile.py': conanfile,
      'conanmanifest.txt': `1700000000\nconanfile.py: ${createHash('md5').update(conanfile).digest('hex')}\n`,
    };
    for (const [path, content] of Object.entries(files)) {
      const put = await handler(
        new Request(`http://x${RECIPE}/revisions/${RREV}/files/${path}`, {
          method: 'PUT',
          body: content,
          headers: { authorization: `Bearer ${token}`, 'x-checksum-sha1': sha1(content) },
        }),
      );
      expect(put.status).toBe(200);
    }
  });

  afterAll(async () => {
    await dispose?.();
  });

  async function withServer(fetchHandler: FetchHandler, use: (url: string) => Promise<void>): Promise<void> {
    const server = await serveNode(fetchHandler);
    try {
      await use(server.url);
    } finally {
      server.server.closeAllConnections();
      await server.close();
    }
  }

  it('answers GET latest as the fetch handler does, with its content-length', async () => {
    const direct = await handler(new Request(`http://x${RECIPE}/latest`));
    const expected = await direct.text();
    await withServer(handler, async (url) => {
      const answer = await send(`${url}${RECIPE}/latest`);
      expect(answer.status).toBe(200);
      expect(answer.headers['content-type']).toBe('application/json');
      expect(answer.body.toString()).toBe(expected);
      expect(JSON.parse(expected).revision).toBe(RREV);
      expect(answer.headers['content-length']).toBe(String(answer.body.length));
    });
  });

  it('answers HEAD with the status and headers of GET and no body, keeping the connection usable', async () => {
    await withServer(handler, async (url) => {
      for (const path of [`${RECIPE}/latest`, `${RECIPE}/revisions`, '/v2/ping', `${RECIPE}/revisions/${RREV}/files/missing.txt`]) {
        const get = await send(`${url}${path}`);
        const head = await send(`${url}${path}`, 'HEAD');
        expect([path, head.status], path).toEqual([path, get.status]);
        expect(head.headers['content-type'], path).toBe(get.headers['content-type']);
        expect(head.body.length, path).toBe(0);
      }
    });
  });

  it('counts content-length in bytes, not characters, on error answers', async () => {
    await withServer(handler, async (url) => {
      const answer = await send(`${url}/v2/conans/h%C3%A9llo/1.0/_/_/latest`);
      expect(answer.status).toBe(400);
      expect(answer.headers['content-type']).toBe('text/plain; charset=utf-8');
      expect(answer.body.toString('utf8')).toContain('héllo');
      expect(Number(answer.headers['content-length'])).toBe(answer.body.length);
      expect(answer.body.length).toBeGreaterThan(answer.body.toString('utf8').length);
    });
  });

  it('keeps the headers of error answers (401 with WWW-Authenticate)', async () => {
    await withServer(handler, async (url) => {
      const answer = await send(`${url}/v2/users/check_credentials`);
      expect(answer.status).toBe(401);
      expect(answer.headers['www-authenticate']).toBe('Bearer realm="conan"');
      expect(answer.body.toString()).not.toBe('');
    });
  });

  it('writes headers a host handler adds to a tagged answer after the handler made it, cookies apart', async () => {
    const wrapped: FetchHandler = async (request, context) => {
      const response = await handler(request, context);
      response.headers.set('x-served-by', 'node-1');
      response.headers.append('set-cookie', 'a=1');
      response.headers.append('set-cookie', 'b=2');
      return response;
    };
    await withServer(wrapped, async (url) => {
      const answer = await send(`${url}${RECIPE}/latest`);
      expect(answer.status).toBe(200);
      expect(answer.headers['x-served-by']).toBe('node-1');
      expect(answer.headers['set-cookie']).toEqual(['a=1', 'b=2']);
      expect(JSON.parse(answer.body.toString()).revision).toBe(RREV);
    });
  });

  it('writes a large tagged body whole, and a body-less empty answer with content-length 0', async () => {
    const listing = JSON.stringify({ results: Array.from({ length: 40_000 }, (_, i) => `pkg${i}/1.${i}@user/channel`) });
    const big: FetchHandler = async (request) =>
      new URL(request.url).pathname === '/big'
        ? withDirectBody(new Response(listing, { headers: { 'content-type': 'application/json' } }), { kind: 'bytes', data: listing })
        : handler(request);
    await withServer(big, async (url) => {
      const answer = await send(`${url}/big`);
      expect(answer.body.length).toBeGreaterThan(1024 * 1024);
      expect(answer.body.toString()).toBe(listing);
      expect(answer.headers['content-length']).toBe(String(Buffer.byteLength(listing)));
      const ping = await send(`${url}/v2/ping`);
      expect(ping.status).toBe(200);
      expect(ping.headers['content-length']).toBe('0');
      expect(ping.headers['x-conan-server-capabilities']).toContain('revisions');
    });
  });

  it('answers a kind of direct body it does not write itself (file) with the same bytes', async () => {
    // Whether the bridge writes this kind itself or falls back to the web body, the client gets the same answer.
    const text = 'the same bytes either way';
    const dir = await mkdtemp(join(tmpdir(), 'cimmeria-fast-path-'));
    const path = join(dir, 'file.bin');
    await writeFile(path, text);
    const fileTagged: FetchHandler = async () =>
      withDirectBody(new Response(text, { status: 203, headers: { 'x-kind': 'file', 'content-length': String(text.length) } }), {
        kind: 'file',
        path,
        start: 0,
        end: text.length - 1,
      });
    try {
      await withServer(fileTagged, async (url) => {
        const answer = await send(`${url}/anything`);
        expect(answer.status).toBe(203);
        expect(answer.headers['x-kind']).toBe('file');
        expect(answer.body.toString()).toBe(text);
      });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
