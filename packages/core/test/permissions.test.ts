import { describe, expect, it } from 'vitest';
import { ConanServerAuthorizer } from '../src/auth/authorizer.js';

const demo = { name: 'demo' };
const other = { name: 'other' };
const hello = { name: 'hello', version: '1.0' };
const secret = { name: 'secret', version: '0.1' };
const secretAcme = { name: 'secret', version: '0.1', user: 'acme', channel: 'stable' };

describe('conan_server permission rules', () => {
  it('reads for anyone and writes for no one by default', () => {
    const authorizer = new ConanServerAuthorizer();
    expect(authorizer.can(undefined, 'read', hello)).toBe(true);
    expect(authorizer.can(demo, 'read', hello)).toBe(true);
    expect(authorizer.can(demo, 'write', hello)).toBe(false);
    expect(authorizer.can(demo, 'delete', hello)).toBe(false);
  });

  it('lets the first matching rule decide, even when a later one would allow', () => {
    const authorizer = new ConanServerAuthorizer({
      read: [
        { pattern: 'secret/*@*/*', users: ['demo'] },
        { pattern: '*/*@*/*', users: ['*'] },
      ],
    });
    expect(authorizer.can(demo, 'read', secret)).toBe(true);
    expect(authorizer.can(other, 'read', secret)).toBe(false);
    expect(authorizer.can(undefined, 'read', secret)).toBe(false);
    expect(authorizer.can(other, 'read', secretAcme)).toBe(false);
    expect(authorizer.can(other, 'read', hello)).toBe(true);
  });

  it('treats ? as any authenticated user', () => {
    const authorizer = new ConanServerAuthorizer({ write: [{ pattern: '*/*@*/*', users: ['?'] }] });
    expect(authorizer.can(demo, 'write', hello)).toBe(true);
    expect(authorizer.can(undefined, 'write', hello)).toBe(false);
  });

  it('lets whoever may write also delete', () => {
    const authorizer = new ConanServerAuthorizer({ write: [{ pattern: 'hello/*@*/*', users: ['demo'] }] });
    expect(authorizer.can(demo, 'delete', hello)).toBe(true);
    expect(authorizer.can(other, 'delete', hello)).toBe(false);
    expect(authorizer.can(demo, 'delete', secret)).toBe(false);
  });

  it('denies when no rule matches', () => {
    const authorizer = new ConanServerAuthorizer({ read: [{ pattern: 'hello/*@*/*', users: ['*'] }] });
    expect(authorizer.can(demo, 'read', secret)).toBe(false);
  });

  it('applies a rule without @user/channel only to references without them, as conan_server does', () => {
    const authorizer = new ConanServerAuthorizer({
      read: [
        { pattern: 'secret/*', users: ['demo'] },
        { pattern: '*/*@*/*', users: ['*'] },
      ],
    });
    expect(authorizer.can(other, 'read', secret)).toBe(false);
    expect(authorizer.can(other, 'read', secretAcme)).toBe(true);
  });

  it('matches user and channel patterns, with _ for none', () => {
    const authorizer = new ConanServerAuthorizer({
      write: [
        { pattern: '*/*@acme/*', users: ['demo'] },
        { pattern: '*/*@_/_', users: ['other'] },
      ],
    });
    expect(authorizer.can(demo, 'write', secretAcme)).toBe(true);
    expect(authorizer.can(other, 'write', secretAcme)).toBe(false);
    expect(authorizer.can(other, 'write', hello)).toBe(true);
    expect(authorizer.can(demo, 'write', hello)).toBe(false);
  });

  it('trims user names', () => {
    const authorizer = new ConanServerAuthorizer({ write: [{ pattern: '*/*@*/*', users: [' demo ', 'admin'] }] });
    expect(authorizer.can(demo, 'write', hello)).toBe(true);
  });
});

describe('issue 12, LDAP: group names in permission rules', () => {
  it('LDAP: a rule listing @conan-writers grants a principal in that group, and no one else', () => {
    const authorizer = new ConanServerAuthorizer({ write: [{ pattern: '*/*@*/*', users: ['@conan-writers'] }] });
    expect(authorizer.can({ name: 'alice', groups: ['@conan-writers'] }, 'write', hello)).toBe(true);
    expect(authorizer.can({ name: 'bob', groups: ['@other'] }, 'write', hello)).toBe(false);
    expect(authorizer.can(demo, 'write', hello)).toBe(false);
  });
});
