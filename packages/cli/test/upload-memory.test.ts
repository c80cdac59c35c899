import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { login, startServe } from './support/cli-process.js';
import { tempDirEachTest } from './support/hooks.js';
import { streamUpload } from './support/stream-upload.js';

// Issue 10: uploads stream. 32 concurrent 128 MiB uploads may raise the
// server's resident memory by at most 64 MiB: whatever the number of uploads
// in flight, each holds a bounded window of its bytes, never its whole body.

const UPLOADS = 32;
const UPLOAD_MIB = 128;
const BOUND_MIB = 64;
const REVISION = '/v2/conans/memory/1.0/_/_/revisions/0123456789abcdef0123456789abcdef/files';

const tmp = tempDirEachTest();

const statusKiB = async (pid: number, field: string) => {
  const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(await readFile(`/proc/${pid}/status`, 'utf8'));
  if (!match) throw new Error(`${field} missing from /proc/${pid}/status`);
  return Number(match[1]);
};

describe.skipIf(process.platform !== 'linux')('upload memory', () => {
  it(`${UPLOADS} concurrent ${UPLOAD_MIB} MiB uploads raise the server's peak RSS by at most ${BOUND_MIB} MiB`, async () => {
    const server = await startServe(['--port', '0', '--host', '127.0.0.1', '--data', join(tmp.dir, 'data')]);
    try {
      const { token } = await login(server.url, 'admin', /password: (\S+)/.exec(server.stderr())![1]!);
      const auth = { authorization: `Bearer ${token}` };
      const pid = server.child.pid!;
      // One small upload first, so code paths loaded on first use count as idle memory.
      expect(await streamUpload(`${server.url}${REVISION}/warmup.tgz`, auth, 1)).toBe(200);
      // Reset the kernel's high-water mark: VmHWM then holds the peak of what follows, missing nothing.
      await writeFile(`/proc/${pid}/clear_refs`, '5');
      const before = await statusKiB(pid, 'VmRSS');
      const statuses = await Promise.all(
        Array.from({ length: UPLOADS }, (_, i) => streamUpload(`${server.url}${REVISION}/file-${i}.tgz`, auth, UPLOAD_MIB)),
      );
      expect(statuses).toEqual(Array(UPLOADS).fill(200));
      const peak = await statusKiB(pid, 'VmHWM');
      const raisedMiB = (peak - before) / 1024;
      console.log(`upload memory: RSS ${Math.round(before / 1024)} MiB before, peak ${Math.round(peak / 1024)} MiB (+${raisedMiB.toFixed(1)} MiB)`);
      expect(raisedMiB).toBeLessThanOrEqual(BOUND_MIB);
    } finally {
      await server.stop();
    }
  }, 300_000);
});
