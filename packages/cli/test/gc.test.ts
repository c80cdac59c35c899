import { createHash } from 'node:crypto';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from './support/cli-process.js';
import { adminServerEachTest } from './support/hooks.js';

const sha1 = (text: string) => createHash('sha1').update(text).digest('hex');
const RECIPE = '/v2/conans/hello/1.0/_/_/revisions';
const rev = (n: number) => String(n).repeat(32);

const admin = adminServerEachTest();

async function publish(revision: string, content: string): Promise<void> {
  for (const [name, body] of [['conanfile.py', content], ['conanmanifest.txt', `manifest of ${content}`]] as const) {
    const response = await fetch(`${admin.server.url}${RECIPE}/${revision}/files/${name}`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${admin.token}`, 'x-checksum-sha1': sha1(body) },
      body,
    });
    expect(response.status).toBe(200);
  }
}

/** Blob files under the data directory. */
async function blobFiles(): Promise<number> {
  const entries = await readdir(join(admin.data, 'blobs', 'blobs'), { recursive: true, withFileTypes: true });
  return entries.filter((e) => e.isFile()).length;
}

describe('cimmeria gc', () => {
  it('removes the files of a deleted revision while the server runs, and reports the bytes freed', async () => {
    await publish(rev(1), 'first');
    await publish(rev(2), 'second');
    const deleted = await fetch(`${admin.server.url}${RECIPE}/${rev(1)}`, { method: 'DELETE', headers: { authorization: `Bearer ${admin.token}` } });
    expect(deleted.status).toBe(200);
    expect(await blobFiles()).toBe(4);

    const dry = await runCli(['gc', '--data', admin.data, '--grace', '0', '--dry-run']);
    expect(dry.code).toBe(0);
    expect(dry.stdout).toContain('would remove 2 unused file(s), 22 B (4 scanned');
    expect(await blobFiles()).toBe(4);

    const young = await runCli(['gc', '--data', admin.data]);
    expect(young.stdout).toContain('removed 0 unused file(s), 0 B (4 scanned, 4 younger than the grace period kept); forgot 0 deleted');

    const run = await runCli(['gc', '--data', admin.data, '--grace', '0']);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('removed 2 unused file(s), 22 B (4 scanned, 0 younger than the grace period kept); forgot 1 deleted or abandoned revision(s)');
    expect(await blobFiles()).toBe(2);
    const kept = await fetch(`${admin.server.url}${RECIPE}/${rev(2)}/files/conanfile.py`);
    expect(await kept.text()).toBe('second');
  });

  it('refuses a grace period without a unit', async () => {
    const result = await runCli(['gc', '--data', admin.data, '--grace', '24']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('--grace: expected a duration such as 30m, 24h or 7d');
  });
});
