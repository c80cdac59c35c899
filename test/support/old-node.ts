import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { delimiter, join } from 'node:path';

/** A `node` binary older than Cimmeria's floor, and its version. */
export interface OldNode {
  path: string;
  /** `20.20.2`, as `process.versions.node` says it. */
  version: string;
}

/**
 * Finds a Node.js older than 22 on this machine (the system's `/usr/bin/node`
 * is often one, next to the Node 22+ the tests run on), or undefined when
 * there is none: the tests that need one are then skipped.
 */
export function findOldNode(): OldNode | undefined {
  const candidates = new Set(['/usr/bin/node', '/usr/local/bin/node', '/bin/node']);
  for (const dir of (process.env.PATH ?? '').split(delimiter)) if (dir) candidates.add(join(dir, 'node'));
  for (const path of candidates) {
    if (!existsSync(path)) continue;
    let version: string;
    try {
      version = execFileSync(path, ['-p', 'process.versions.node'], { encoding: 'utf8', timeout: 10_000 }).trim();
    } catch {
      continue;
    }
    if (Number(version.split('.')[0]) < 22) return { path, version };
  }
  return undefined;
}
