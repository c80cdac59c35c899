import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { KyselyMetadataStore } from '@cimmeria/core';
import { createSqliteMetadataStore } from '@cimmeria/metadata-sqlite';
import { describe, expect, it } from 'vitest';
import { runCli } from './support/cli-process.js';
import { adminServerEachTest } from './support/hooks.js';

const sha1 = (text: string) => createHash('sha1').update(text).digest('hex');
const RECIPE = '/v2/conans/hello/1.0/_/_/revisions';
const REV = 'a'.repeat(32);
const PKG = `${RECIPE}/${REV}/packages/${'f'.repeat(40)}/revisions/${'b'.repeat(32)}`;

const admin = adminServerEachTest();

async function put(path: string, body: string): Promise<void> {
  const response = await fetch(`${admin.server.url}${path}`, {
    method: 'PUT',
    headers: { authorization: `Bearer ${admin.token}`, 'x-checksum-sha1': sha1(body) },
    body,
  });
  expect(response.status).toBe(200);
}

async function uploadAndDelete(): Promise<void> {
  await put(`${RECIPE}/${REV}/files/conanfile.py`, 'from conan import ConanFile');
  await put(`${RECIPE}/${REV}/files/conanmanifest.txt`, '1700000000\n');
  await put(`${PKG}/files/conaninfo.txt`, '[settings]\n');
  await put(`${PKG}/files/conanmanifest.txt`, '1700000001\n');
  const deleted = await fetch(`${admin.server.url}${PKG}`, { method: 'DELETE', headers: { authorization: `Bearer ${admin.token}` } });
  expect(deleted.status).toBe(200);
}

const PKG_REF = `hello/1.0#${REV}:${'f'.repeat(40)}#${'b'.repeat(32)}`;

describe('cimmeria audit (issue 12, audit trail)', () => {
  it('lists an upload and a delete over HTTP, newest first, with user and address', async () => {
    await uploadAndDelete();
    const result = await runCli(['audit', '--data', admin.data]);
    expect(result.code).toBe(0);
    const lines = result.stdout.trim().split('\n');
    expect(lines).toHaveLength(4);
    expect(lines[0]).toMatch(new RegExp(`package_revision\\.deleted  ${PKG_REF.replace(/[#.]/g, '\\$&')}  by admin from (::ffff:)?127\\.0\\.0\\.1$`));
    expect(lines[1]).toContain(`package.published  ${PKG_REF}  by admin from`);
    expect(lines[2]).toContain(`recipe.published  hello/1.0#${REV}  by admin from`);
    // The first start created admin: that is in the trail too.
    expect(lines[3]).toMatch(/user\.added  admin  by cli:serve$/);
  });

  it('--json, --user, --ref, --since and --limit select and shape the events', async () => {
    await uploadAndDelete();
    const json = await runCli(['audit', '--data', admin.data, '--json']);
    expect(json.code).toBe(0);
    const events = json.stdout.trim().split('\n').map((line) => JSON.parse(line));
    expect(events.map((e) => e.kind)).toEqual(['package_revision.deleted', 'package.published', 'recipe.published', 'user.added']);
    expect(events[2]).toMatchObject({ ref: `hello/1.0#${REV}`, user: 'admin', tokenId: null });
    expect(events[2].address).toMatch(/127\.0\.0\.1$/);
    expect(Date.parse(events[2].time)).toBeGreaterThan(Date.now() - 60_000);

    const count = async (...args: string[]) => {
      const result = await runCli(['audit', '--data', admin.data, ...args]);
      expect(result.code).toBe(0);
      return result.stdout.trim() === '' ? 0 : result.stdout.trim().split('\n').length;
    };
    expect(await count('--user', 'admin')).toBe(3);
    expect(await count('--user', 'nobody')).toBe(0);
    expect(await count('--ref', 'hello/1.0')).toBe(3);
    expect(await count('--ref', 'admin')).toBe(1);
    expect(await count('--ref', 'hello/*:*')).toBe(2);
    expect(await count('--ref', 'zlib/*')).toBe(0);
    expect(await count('--since', '1h')).toBe(4);
    expect(await count('--since', '0')).toBe(0);
    expect(await count('--limit', '1')).toBe(1);
    const bad = await runCli(['audit', '--data', admin.data, '--limit', 'lots']);
    expect(bad.code).toBe(2);
  });

  it('gc prunes events older than auditRetentionDays, and only those', async () => {
    await uploadAndDelete();
    // An event from 400 days ago, written through a store whose clock says so.
    const opened = createSqliteMetadataStore({ filename: join(admin.data, 'metadata.db') });
    try {
      const past = new KyselyMetadataStore(opened.db, { clock: async () => (Date.now() - 400 * 86_400_000) * 1000 });
      expect(await past.addUser('olduser', 'scrypt$x', { user: 'cli:test' })).toBe(true);
    } finally {
      await opened.close();
    }
    expect((await runCli(['audit', '--data', admin.data, '--user', 'cli:test'])).stdout).toContain('user.added  olduser');

    const dry = await runCli(['gc', '--data', admin.data, '--dry-run']);
    expect(dry.stdout).toContain('would remove 1 audit event(s) older than 365 days');
    const run = await runCli(['gc', '--data', admin.data]);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('removed 1 audit event(s) older than 365 days');
    expect((await runCli(['audit', '--data', admin.data, '--user', 'cli:test'])).stdout).toBe('');
    expect((await runCli(['audit', '--data', admin.data])).stdout.trim().split('\n')).toHaveLength(4);
  });

  it('counts downloads per revision per day, aggregated into one counter', async () => {
    await uploadAndDelete();
    for (let i = 0; i < 3; i++) {
      const response = await fetch(`${admin.server.url}${RECIPE}/${REV}/files/conanmanifest.txt`, { headers: { authorization: `Bearer ${admin.token}` } });
      expect(response.status).toBe(200);
      await response.arrayBuffer();
    }
    // A HEAD looks, it does not download.
    const head = await fetch(`${admin.server.url}${RECIPE}/${REV}/files/conanmanifest.txt`, { method: 'HEAD', headers: { authorization: `Bearer ${admin.token}` } });
    expect(head.status).toBe(200);
    // Counts are written in a batch every few seconds: wait for it, bounded.
    const opened = createSqliteMetadataStore({ filename: join(admin.data, 'metadata.db') });
    try {
      const deadline = Date.now() + 20_000;
      let counts = await opened.store.downloadCounts('recipe', `hello/1.0#${REV}`);
      while (counts.length === 0 && Date.now() < deadline) {
        await sleep(250);
        counts = await opened.store.downloadCounts('recipe', `hello/1.0#${REV}`);
      }
      expect(counts).toEqual([{ kind: 'recipe', ref: `hello/1.0#${REV}`, day: new Date().toISOString().slice(0, 10), count: 3 }]);
      const rows = await opened.db.selectFrom('download_counts').selectAll().execute();
      expect(rows).toHaveLength(1);
    } finally {
      await opened.close();
    }
  });

  it('writes the download counts still in memory when the server shuts down', async () => {
    await uploadAndDelete();
    const response = await fetch(`${admin.server.url}${RECIPE}/${REV}/files/conanmanifest.txt`, { headers: { authorization: `Bearer ${admin.token}` } });
    expect(response.status).toBe(200);
    await response.arrayBuffer();
    // Stopped well before the next flush is due.
    expect(await admin.server.stop()).toBe(0);
    const opened = createSqliteMetadataStore({ filename: join(admin.data, 'metadata.db') });
    try {
      expect((await opened.store.downloadCounts('recipe', `hello/1.0#${REV}`)).map((c) => c.count)).toEqual([1]);
    } finally {
      await opened.close();
    }
  });
});
