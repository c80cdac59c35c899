import { describe, expect, it } from 'vitest';
import {
  PasswordAuthenticator,
  StaticUsers,
  UserLookupUnsupportedError,
  chainHashSources,
  firstOf,
  type Authenticator,
} from '../src/auth/authenticator.js';
import { ConanError } from '../src/service/errors.js';
import { hashPassword, verifyPassword } from '../src/auth/password-hash.js';
import { TokenService } from '../src/auth/tokens.js';

describe('password hashes', () => {
  it('verifies the right password and rejects others', async () => {
    const hash = await hashPassword('s3cret');
    expect(hash).toMatch(/^scrypt\$/);
    expect(hash).not.toContain('s3cret');
    expect(await verifyPassword('s3cret', hash)).toBe(true);
    expect(await verifyPassword('s3cret!', hash)).toBe(false);
  });

  it('salts: the same password hashes differently', async () => {
    expect(await hashPassword('x')).not.toBe(await hashPassword('x'));
  });

  it('never matches malformed hashes', async () => {
    expect(await verifyPassword('x', 'plain')).toBe(false);
    expect(await verifyPassword('x', 'scrypt$a$b$c$d$e')).toBe(false);
    expect(await verifyPassword('x', 'scrypt$16384$8$1$c2FsdA$')).toBe(false);
  });
});

describe('authenticators', () => {
  it('authenticates static users and chains sources', async () => {
    const first = new PasswordAuthenticator(new StaticUsers({ demo: await hashPassword('demo') }));
    const second = new PasswordAuthenticator(new StaticUsers({ admin: await hashPassword('admin') }));
    const chain = firstOf(first, second);
    expect(await chain.authenticate('demo', 'demo')).toEqual({ name: 'demo' });
    expect(await chain.authenticate('admin', 'admin')).toEqual({ name: 'admin' });
    expect(await chain.authenticate('admin', 'demo')).toBeUndefined();
    expect(await chain.authenticate('nobody', 'x')).toBeUndefined();
  });
  it('issue 12, API tokens of directory users: firstOf looks users up in order, past an authenticator that cannot, and never past an outage', async () => {
    const passwords = new PasswordAuthenticator(new StaticUsers({ demo: await hashPassword('demo') }));
    const cannot: Authenticator = {
      authenticate: async () => undefined,
      lookupUser: async () => {
        throw new UserLookupUnsupportedError('set searchBase');
      },
    };
    const directory: Authenticator = {
      authenticate: async () => undefined,
      lookupUser: async (user) => (user === 'carol' ? { name: 'carol', groups: ['@writers'] } : undefined),
    };
    const chain = firstOf(cannot, passwords, directory);
    expect(await chain.lookupUser!('demo')).toEqual({ name: 'demo' });
    expect(await chain.lookupUser!('carol')).toEqual({ name: 'carol', groups: ['@writers'] });
    // Nobody knows the user and one could not ask: say why, rather than "no such user".
    await expect(chain.lookupUser!('nobody')).rejects.toThrow('set searchBase');
    expect(await firstOf(passwords, directory).lookupUser!('nobody')).toBeUndefined();
    const down: Authenticator = {
      authenticate: async () => undefined,
      lookupUser: async () => {
        throw new ConanError('UNAVAILABLE', 'directory down');
      },
    };
    await expect(firstOf(passwords, down, directory).lookupUser!('carol')).rejects.toMatchObject({ code: 'UNAVAILABLE' });
    // Without lookupUser or credentialVersion anywhere, the chain cannot tell either.
    expect(firstOf({ authenticate: async () => undefined }).lookupUser).toBeUndefined();
  });
});

describe('tokens', () => {
  it('round-trips a principal', async () => {
    const tokens = new TokenService({ secret: 'a-long-enough-secret' });
    expect(await tokens.verify(await tokens.issue({ name: 'demo' }))).toEqual({ name: 'demo' });
  });

  it('accepts tokens signed with a previous secret after rotation, and rejects unknown ones', async () => {
    const old = new TokenService({ secret: 'the-old-secret-000' });
    const rotated = new TokenService({ secret: 'the-new-secret-000', previousSecrets: ['the-old-secret-000'] });
    const stranger = new TokenService({ secret: 'someone-elses-secret' });
    expect(await rotated.verify(await old.issue({ name: 'demo' }))).toEqual({ name: 'demo' });
    await expect(rotated.verify(await stranger.issue({ name: 'demo' }))).rejects.toThrow(/Invalid token/);
  });

  it('refuses short secrets', () => {
    expect(() => new TokenService({ secret: 'short' })).toThrow(/at least 16/);
  });

  it('item 3 of issue 11: a missing secret (an unset environment variable) is an error naming the secret', () => {
    const unset = process.env.CIMMERIA_TEST_UNSET_TOKEN_SECRET;
    expect(() => new TokenService({ secret: unset! })).toThrow(
      'TokenService: the token secret is missing (got undefined): pass a string of at least 16 characters',
    );
    expect(() => new TokenService({ secret: '' })).toThrow('TokenService: the token secret must be at least 16 characters (got 0)');
  });

  it('item 3 of issue 11: a missing or short previous secret is named too, and no secret is echoed', () => {
    const good = 'a-long-enough-secret';
    expect(() => new TokenService({ secret: good, previousSecrets: [good, undefined as unknown as string] })).toThrow(
      'TokenService: the token previousSecrets[1] is missing (got undefined)',
    );
    expect(() => new TokenService({ secret: good, previousSecrets: ['sh0rt-s3cret'] })).toThrow(
      /^TokenService: the token previousSecrets\[0\] must be at least 16 characters \(got 12\)$/,
    );
  });

  it('rejects garbage', async () => {
    const tokens = new TokenService({ secret: 'a-long-enough-secret' });
    await expect(tokens.verify('garbage')).rejects.toThrow(/Invalid token/);
  });
});

describe('chained password sources', () => {
  it('asks each source in order, the first that knows the user wins', async () => {
    const configured = new StaticUsers({ admin: await hashPassword('from-config') });
    const stored = new StaticUsers({ admin: await hashPassword('from-store'), ci: await hashPassword('ci') });
    const authenticator = new PasswordAuthenticator(chainHashSources(configured, stored));
    expect(await authenticator.authenticate('admin', 'from-config')).toEqual({ name: 'admin' });
    expect(await authenticator.authenticate('admin', 'from-store')).toBeUndefined();
    expect(await authenticator.authenticate('ci', 'ci')).toEqual({ name: 'ci' });
  });
});

describe('issue 12, LDAP: session tokens carry the principal groups', () => {
  it('LDAP: a token issued for a principal with groups gives them back; one without gives none', async () => {
    const tokens = new TokenService({ secret: 'a-long-enough-secret' });
    expect(await tokens.verify(await tokens.issue({ name: 'alice', groups: ['@conan-writers'] }))).toEqual({
      name: 'alice',
      groups: ['@conan-writers'],
    });
    expect(await tokens.verify(await tokens.issue({ name: 'bob' }))).toEqual({ name: 'bob' });
  });
});
