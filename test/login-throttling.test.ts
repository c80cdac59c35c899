import { createServer } from 'node:http';
import express from 'express';
import Fastify from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { conanRouter } from '@cimmeria/adapter-express';
import { conanPlugin } from '@cimmeria/adapter-fastify';
import {
  PasswordAuthenticator,
  StaticUsers,
  createConanHandler,
  hashPassword,
  type Authenticator,
  type ConanHandlerOptions,
  type Registry,
  type RegistryOptions,
} from '@cimmeria/core';
import { serveNode } from '@cimmeria/core/node';
import { conformanceRegistry } from './support/conformance-registry.js';
import { listen } from './support/listen.js';
import { basicAuth } from './support/login.js';

// Issue 8, item 2: HTTP Basic on any route cost a password hash, unthrottled.
// Client addresses are simulated with X-Forwarded-For behind `trustProxy: 1`,
// as nginx in front of the node would set it.

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** Counts the password checks that reach the authenticator, and how many ran at once. */
function countingAuthenticator(inner: Authenticator) {
  const stats = { calls: 0, running: 0, maxRunning: 0 };
  let gate: Promise<void> = Promise.resolve();
  const authenticator: Authenticator = {
    async authenticate(user, password) {
      stats.calls++;
      stats.running++;
      stats.maxRunning = Math.max(stats.maxRunning, stats.running);
      try {
        await gate;
        return await inner.authenticate(user, password);
      } finally {
        stats.running--;
      }
    },
  };
  /** Holds every check until the returned function is called. */
  const hold = () => {
    let open!: () => void;
    gate = new Promise((resolve) => (open = resolve));
    return () => {
      gate = Promise.resolve();
      open();
    };
  };
  return { authenticator, stats, hold };
}

async function demoUsers(): Promise<Authenticator> {
  return new PasswordAuthenticator(new StaticUsers({ demo: await hashPassword('demo'), other: await hashPassword('other') }));
}

async function server(options: Partial<RegistryOptions>, handlerOptions: ConanHandlerOptions = { trustProxy: 1 }) {
  const { registry, dispose } = await conformanceRegistry(options);
  const node = await serveNode(createConanHandler(registry, handlerOptions));
  cleanups.push(async () => {
    await node.close();
    await dispose();
  });
  return node.url;
}

const from = (address: string | undefined, authorization: string): Record<string, string> =>
  address === undefined ? { authorization } : { authorization, 'x-forwarded-for': address };

async function login(url: string, user: string, password: string, address?: string) {
  const response = await fetch(`${url}/v2/users/authenticate`, { headers: from(address, basicAuth(user, password)) });
  return { status: response.status, retryAfter: response.headers.get('retry-after'), text: await response.text() };
}

describe('item 2 of issue 8: failed logins are throttled', () => {
  it('item 2: after N failed logins of a user, its logins get 429 with Retry-After without a password check', async () => {
    const counting = countingAuthenticator(await demoUsers());
    const url = await server({
      authenticator: counting.authenticator,
      loginFailuresPerUser: 3,
      loginFailuresPerAddress: 0,
      loginThrottleWindowSeconds: 60,
    });
    for (const address of ['10.0.0.1', '10.0.0.2', '10.0.0.3']) {
      expect((await login(url, 'demo', 'guess', address)).status).toBe(401);
    }
    const calls = counting.stats.calls;
    // Even the right password, from yet another address: no check until the window ends.
    const asked = Date.now();
    const refused = await login(url, 'demo', 'demo', '10.0.0.4');
    expect(refused.status).toBe(429);
    // After a pause, which slows down a client flooding its connections.
    expect(Date.now() - asked).toBeGreaterThanOrEqual(900);
    expect(Number(refused.retryAfter)).toBeGreaterThanOrEqual(1);
    expect(Number(refused.retryAfter)).toBeLessThanOrEqual(60);
    expect((await login(url, 'demo', 'guess', '10.0.0.5')).status).toBe(429);
    expect(counting.stats.calls).toBe(calls);
    // Other users are not affected.
    expect((await login(url, 'other', 'other', '10.0.0.1')).status).toBe(200);
  });

  it('item 2: after N failed logins from an address, its logins get 429; a correct login from another address still works', async () => {
    const counting = countingAuthenticator(await demoUsers());
    const url = await server({ authenticator: counting.authenticator, loginFailuresPerUser: 0, loginFailuresPerAddress: 3 });
    for (const user of ['a', 'b', 'c']) expect((await login(url, user, 'guess', '10.0.0.9')).status).toBe(401);
    const calls = counting.stats.calls;
    const refused = await login(url, 'demo', 'demo', '10.0.0.9');
    expect(refused.status).toBe(429);
    expect(Number(refused.retryAfter)).toBeGreaterThanOrEqual(1);
    // A client-written entry in front of what the proxy appended changes nothing.
    expect((await login(url, 'demo', 'demo', '192.0.2.77, 10.0.0.9')).status).toBe(429);
    expect(counting.stats.calls).toBe(calls);
    expect((await login(url, 'demo', 'demo', '10.0.0.10')).status).toBe(200);
  });

  it('item 2: an IPv6 client counts per /64, so rotating its own addresses does not escape the limit', async () => {
    const url = await server({ authenticator: await demoUsers(), loginFailuresPerUser: 0, loginFailuresPerAddress: 2 });
    expect((await login(url, 'x', 'guess', '2001:db8:1:2::1')).status).toBe(401);
    expect((await login(url, 'y', 'guess', '2001:db8:1:2:ffff::7')).status).toBe(401);
    expect((await login(url, 'demo', 'demo', '2001:db8:1:2::abcd')).status).toBe(429);
    expect((await login(url, 'demo', 'demo', '2001:db8:1:3::1')).status).toBe(200);
  });

  it('item 2: HTTP Basic on any route is throttled like a login', async () => {
    const counting = countingAuthenticator(await demoUsers());
    const url = await server({ authenticator: counting.authenticator, loginFailuresPerAddress: 2 });
    const search = (user: string, password: string) =>
      fetch(`${url}/v2/conans/search?q=*`, { headers: from('10.0.0.20', basicAuth(user, password)) });
    expect((await search('x', 'guess')).status).toBe(401);
    expect((await search('y', 'guess')).status).toBe(401);
    const refused = await search('demo', 'demo');
    expect(refused.status).toBe(429);
    expect(refused.headers.get('retry-after')).toMatch(/^\d+$/);
    expect(counting.stats.calls).toBe(2);
  });

  it('item 2: a user throttled by failures from elsewhere still gets in from an address it used, and from anywhere after the window', async () => {
    const url = await server({
      authenticator: await demoUsers(),
      loginFailuresPerUser: 2,
      loginFailuresPerAddress: 0,
      loginThrottleWindowSeconds: 5,
    });
    expect((await login(url, 'demo', 'demo', '10.1.0.1')).status).toBe(200);
    // An attacker guesses demo's password from two other addresses.
    expect((await login(url, 'demo', 'guess', '10.6.6.6')).status).toBe(401);
    expect((await login(url, 'demo', 'guess', '10.6.6.7')).status).toBe(401);
    expect((await login(url, 'demo', 'demo', '10.1.0.2')).status).toBe(429);
    expect((await login(url, 'demo', 'guess', '10.6.6.8')).status).toBe(429);
    // Where demo logged in before, demo is not locked out.
    expect((await login(url, 'demo', 'demo', '10.1.0.1')).status).toBe(200);
    // The lock ends with the window: no permanent lock-out.
    const started = Date.now();
    let status = 0;
    while (Date.now() - started < 12_000) {
      status = (await login(url, 'demo', 'demo', '10.1.0.2')).status;
      if (status === 200) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(status).toBe(200);
  });

  it('item 2: without trustProxy the socket address counts, whatever X-Forwarded-For says', async () => {
    const url = await server({ authenticator: await demoUsers(), loginFailuresPerUser: 0, loginFailuresPerAddress: 2 }, {});
    expect((await login(url, 'x', 'guess', '10.0.0.1')).status).toBe(401);
    expect((await login(url, 'y', 'guess', '10.0.0.2')).status).toBe(401);
    expect((await login(url, 'demo', 'demo', '10.0.0.3')).status).toBe(429);
    expect((await login(url, 'demo', 'demo')).status).toBe(429);
  });

  it.each([
    [
      'express',
      async (registry: Registry) => {
        const app = express();
        app.set('trust proxy', 'loopback');
        app.use('/conan', conanRouter(registry));
        return listen(createServer(app));
      },
    ],
    [
      'fastify',
      async (registry: Registry) => {
        const app = Fastify({ forceCloseConnections: true, trustProxy: '127.0.0.1' });
        await app.register(conanPlugin, { registry, prefix: '/conan' });
        const url = await app.listen({ port: 0, host: '127.0.0.1' });
        return { url, close: () => app.close() };
      },
    ],
  ])('item 2: the %s adapter throttles per client address as the framework sees it', async (_name, host) => {
    const { registry, dispose } = await conformanceRegistry({ loginFailuresPerUser: 0, loginFailuresPerAddress: 2 });
    const app = await host(registry);
    cleanups.push(async () => {
      await app.close();
      await dispose();
    });
    const url = `${app.url}/conan`;
    expect((await login(url, 'x', 'guess', '10.0.0.1')).status).toBe(401);
    expect((await login(url, 'y', 'guess', '10.0.0.1')).status).toBe(401);
    expect((await login(url, 'demo', 'demo', '10.0.0.1')).status).toBe(429);
    expect((await login(url, 'demo', 'demo', '10.0.0.2')).status).toBe(200);
  });
});

describe('item 2 of issue 8: password checks are bounded', () => {
  it('item 2: at most maxConcurrentPasswordChecks run at once, and past the queue a login is refused at once with 503', async () => {
    const counting = countingAuthenticator(await demoUsers());
    const url = await server({
      authenticator: counting.authenticator,
      maxConcurrentPasswordChecks: 2,
      passwordCheckQueueSize: 3,
    });
    const release = counting.hold();
    // Six logins while every check is held: 2 run, 3 wait, the sixth is answered at once.
    const logins = ['a', 'b', 'c', 'd', 'e', 'f'].map((user, i) => login(url, user, 'guess', `10.0.1.${i}`));
    const first = await Promise.race(logins);
    expect(first.status).toBe(503);
    expect(first.retryAfter).toMatch(/^\d+$/);
    expect(counting.stats.running).toBe(2);
    release();
    expect((await Promise.all(logins)).map((r) => r.status).sort()).toEqual([401, 401, 401, 401, 401, 503]);
    expect(counting.stats.maxRunning).toBe(2);
    expect((await login(url, 'demo', 'demo', '10.0.1.100')).status).toBe(200);
  });

  it('item 2: HTTP Basic on every request costs one password check per credentialCacheSeconds, not one per request', async () => {
    const counting = countingAuthenticator(await demoUsers());
    const url = await server({ authenticator: counting.authenticator, credentialCacheSeconds: 30 });
    const check = () => fetch(`${url}/v2/users/check_credentials`, { headers: { authorization: basicAuth('demo', 'demo') } });
    // Concurrent identical logins share one check.
    const first = await Promise.all(Array.from({ length: 8 }, check));
    expect(first.map((r) => r.status)).toEqual(Array(8).fill(200));
    for (let i = 0; i < 10; i++) expect((await check()).status).toBe(200);
    expect(counting.stats.calls).toBe(1);
    // A wrong password is never answered from what was remembered.
    const wrong = await fetch(`${url}/v2/users/check_credentials`, { headers: { authorization: basicAuth('demo', 'demo!') } });
    expect(wrong.status).toBe(401);
    expect(counting.stats.calls).toBe(2);
  });
});
