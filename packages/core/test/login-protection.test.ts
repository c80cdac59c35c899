import { describe, expect, it } from 'vitest';
import { addressKey } from '../src/auth/address-key.js';
import { PasswordAuthenticator, StaticUsers, firstOf, type Authenticator } from '../src/auth/authenticator.js';
import { ConcurrencyLimit, QueueFullError } from '../src/auth/concurrency-limit.js';
import { CredentialVersions } from '../src/auth/credential-versions.js';
import { LoginThrottle } from '../src/auth/login-throttle.js';
import { LruMap } from '../src/auth/lru-map.js';
import { hashPassword } from '../src/auth/password-hash.js';
import { TokenService } from '../src/auth/tokens.js';
import { forwardedClientAddress } from '../src/http/client-address.js';

describe('item 2 of issue 8: login protection parts', () => {
  it('item 2: an LRU map never holds more than its bound, evicting the least recently used', () => {
    const map = new LruMap<string, number>(3);
    for (const key of ['a', 'b', 'c']) map.set(key, 1);
    map.get('a');
    map.set('d', 1);
    expect(map.get('b')).toBeUndefined();
    expect(map.get('a')).toBe(1);
    for (let i = 0; i < 10_000; i++) map.set(`k${i}`, i);
    expect(map.size).toBe(3);
  });

  it('item 2: failure counts stay bounded in memory whatever names and addresses are sprayed', () => {
    const throttle = new LoginThrottle({ failuresPerUser: 5, failuresPerAddress: 5, windowSeconds: 60, maxEntries: 100 });
    for (let i = 0; i < 50_000; i++) {
      throttle.begin(`user-${i}-${'x'.repeat(i % 500)}`, `10.${i >> 16}.${(i >> 8) & 255}.${i & 255}`).attempt?.end('failure');
    }
    const internals = throttle as unknown as Record<'users' | 'addresses', LruMap<string, unknown>>;
    expect(internals.users.size).toBeLessThanOrEqual(100);
    expect(internals.addresses.size).toBeLessThanOrEqual(100);
  });

  it('item 2: a throttled user or address waits at most one window', () => {
    let now = 1_000_000;
    const throttle = new LoginThrottle({ failuresPerUser: 2, failuresPerAddress: 3, windowSeconds: 10, now: () => now });
    throttle.begin('alice', '10.0.0.1').attempt!.end('failure');
    throttle.begin('alice', '10.0.0.2').attempt!.end('failure');
    expect(throttle.retryAfterSeconds('alice', '10.0.0.3')).toBe(10);
    expect(throttle.begin('alice', '10.0.0.3')).toEqual({ retryAfterSeconds: 10 });
    expect(throttle.retryAfterSeconds('bob', '10.0.0.3')).toBeUndefined();
    now += 4_500;
    expect(throttle.retryAfterSeconds('alice', '10.0.0.3')).toBe(6);
    now += 5_500;
    expect(throttle.retryAfterSeconds('alice', '10.0.0.3')).toBeUndefined();
  });

  it('item 2: checks under way count against the limit, so a burst of guesses starts at most the limit', () => {
    const throttle = new LoginThrottle({ failuresPerUser: 0, failuresPerAddress: 3, windowSeconds: 60 });
    const burst = Array.from({ length: 10 }, (_, i) => throttle.begin(`guess-${i}`, '10.0.0.1'));
    expect(burst.filter((a) => a.attempt).length).toBe(3);
    expect(burst[3]).toEqual({ retryAfterSeconds: 1 });
    // Checks that end without a verdict (a backend error) give their place back.
    burst[0]!.attempt!.end('aborted');
    expect(throttle.begin('guess-10', '10.0.0.1').attempt).toBeDefined();
  });

  it('item 2: the concurrency limit runs at most N, queues at most Q, refuses the rest at once', async () => {
    const limit = new ConcurrencyLimit(2, 1);
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let running = 0;
    let most = 0;
    const task = async () => {
      running++;
      most = Math.max(most, running);
      await gate;
      running--;
    };
    const accepted = [limit.run(task), limit.run(task), limit.run(task)];
    await expect(limit.run(task)).rejects.toBeInstanceOf(QueueFullError);
    expect([limit.active, limit.queued]).toEqual([2, 1]);
    release();
    await Promise.all(accepted);
    expect(most).toBe(2);
    expect([limit.active, limit.queued]).toEqual([0, 0]);
  });

  it('item 2: client addresses are counted per IPv4 address and per IPv6 /64', () => {
    expect(addressKey('192.0.2.1')).toBe('192.0.2.1');
    expect(addressKey('::ffff:192.0.2.1')).toBe('192.0.2.1');
    expect(addressKey('2001:db8:1:2::1')).toBe(addressKey('2001:0db8:0001:0002:ffff:ffff:ffff:ffff'));
    expect(addressKey('2001:db8:1:2::1')).not.toBe(addressKey('2001:db8:1:3::1'));
    expect(addressKey('::1')).toBe('0:0:0:0::/64');
    expect(addressKey('fe80::1%eth0')).toBe(addressKey('fe80::2'));
    expect(addressKey('x'.repeat(10_000)).length).toBeLessThan(100);
  });

  it('item 2: trustProxy reads X-Forwarded-For that many hops back from the peer, never the client-written part', () => {
    const request = (xff?: string) => new Request('http://node/', { headers: xff === undefined ? {} : { 'x-forwarded-for': xff } });
    const peer = { clientAddress: '10.9.9.9' };
    expect(forwardedClientAddress(0)(request('1.2.3.4'), peer)).toBe('10.9.9.9');
    expect(forwardedClientAddress(1)(request('1.2.3.4'), peer)).toBe('1.2.3.4');
    expect(forwardedClientAddress(1)(request('6.6.6.6, 1.2.3.4'), peer)).toBe('1.2.3.4');
    expect(forwardedClientAddress(2)(request('6.6.6.6, 1.2.3.4, 10.0.0.5'), peer)).toBe('1.2.3.4');
    expect(forwardedClientAddress(1)(request(), peer)).toBe('10.9.9.9');
    expect(forwardedClientAddress(1)(request(`${'6.6.6.6, '.repeat(5000)}1.2.3.4`), peer)).toBe('1.2.3.4');
    expect(forwardedClientAddress(1)(request('not-an-address'), peer)).toBe('10.9.9.9');
  });
});

describe('item 3 of issue 8: credential versions', () => {
  it('item 3: a password authenticator version changes with the password, on re-creation, and is undefined once the user is gone', async () => {
    const hashes: Record<string, string> = { alice: await hashPassword('a') };
    const authenticator = new PasswordAuthenticator({ getPasswordHash: async (u) => hashes[u] });
    const first = await authenticator.credentialVersion('alice');
    expect(first).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(await authenticator.credentialVersion('alice')).toBe(first);
    hashes.alice = await hashPassword('a');
    expect(await authenticator.credentialVersion('alice')).not.toBe(first);
    delete hashes.alice;
    expect(await authenticator.credentialVersion('alice')).toBeUndefined();
  });

  it('item 3: firstOf has a version only when a member has one, from the first member that knows the user', async () => {
    const one = new PasswordAuthenticator(new StaticUsers({ shared: await hashPassword('1') }));
    const two = new PasswordAuthenticator(new StaticUsers({ shared: await hashPassword('2'), own: await hashPassword('3') }));
    const chain = firstOf(one, two);
    expect(await chain.credentialVersion!('shared')).toBe(await one.credentialVersion('shared'));
    expect(await chain.credentialVersion!('own')).toBe(await two.credentialVersion('own'));
    expect(await chain.credentialVersion!('nobody')).toBeUndefined();
    const plain: Authenticator = { authenticate: async () => undefined };
    expect(firstOf(plain).credentialVersion).toBeUndefined();
  });

  it('item 3: tokens carry the version they were issued under', async () => {
    const tokens = new TokenService({ secret: 'a-long-enough-secret' });
    expect(await tokens.verifyClaims(await tokens.issue({ name: 'demo' }, { credentialVersion: 'v1' }))).toEqual({
      principal: { name: 'demo' },
      credentialVersion: 'v1',
    });
    expect(await tokens.verifyClaims(await tokens.issue({ name: 'demo' }))).toEqual({ principal: { name: 'demo' } });
  });

  it('item 3: cached versions are at most maxAgeSeconds old, and concurrent look-ups share one call', async () => {
    let now = 0;
    let calls = 0;
    let version = 'v1';
    const versions = new CredentialVersions(
      { credentialVersion: async () => (calls++, version) },
      { maxAgeSeconds: 5, now: () => now },
    );
    expect(await Promise.all([versions.current('u'), versions.current('u'), versions.current('u')])).toEqual(['v1', 'v1', 'v1']);
    expect(calls).toBe(1);
    version = 'v2';
    now = 4_999;
    expect(await versions.current('u')).toBe('v1');
    now = 5_000;
    expect(await versions.current('u')).toBe('v2');
    expect(calls).toBe(2);
  });
});
