import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** The built `cimmeria` command (run `pnpm -s build` first). */
export const CLI = new URL('../../dist/bin.js', import.meta.url).pathname;

/**
 * The environment without any CIMMERIA_* of the caller, plus `extra`. One
 * server process unless a test asks for workers (`--workers`, CIMMERIA_WORKERS):
 * the suite starts many servers at once on small machines, and what one
 * process does (connection caps, timings, per-process counters) is what most
 * tests check; test/workers.test.ts covers several.
 */
function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('CIMMERIA_')));
  return { ...env, CIMMERIA_WORKERS: '1', ...extra };
}

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs a short `cimmeria` command to completion. `input` is written to its
 * stdin (then closed); `cli` runs another copy of the command, `nodeOptions`
 * go to node before it.
 */
export function runCli(
  args: string[],
  options: { env?: Record<string, string>; input?: string; cwd?: string; cli?: string; nodeOptions?: string[] } = {},
): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...(options.nodeOptions ?? []), options.cli ?? CLI, ...args], {
      env: cleanEnv(options.env),
      cwd: options.cwd,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(options.input ?? '');
  });
}

/** A `cimmeria serve` child process that has printed its URL. */
export interface ServeProcess {
  url: string;
  child: ChildProcess;
  /** Everything printed so far. */
  stdout(): string;
  stderr(): string;
  /** Sends `signal` (default SIGTERM) and resolves with the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/**
 * Starts `cimmeria serve ARGS` and resolves once it prints
 * `Cimmeria listening on ...URL...`; rejects with its output if it exits first,
 * or kills it and rejects if it has not listened within `timeoutMs` (if given).
 * Written with erasable TypeScript only: bench scripts import it with `node`.
 */
export function startServe(
  args: string[],
  options: { env?: Record<string, string>; cwd?: string; cli?: string; nodeOptions?: string[]; timeoutMs?: number } = {},
): Promise<ServeProcess> {
  const child = spawn(process.execPath, [...(options.nodeOptions ?? []), options.cli ?? CLI, 'serve', ...args], {
    // No load balancer to wait for in these tests, unless one sets it.
    env: cleanEnv({ CIMMERIA_DRAIN_DELAY_MS: '0', ...options.env }),
    cwd: options.cwd,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  // Always drain both pipes: a full pipe would block the server's synchronous logging.
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  return new Promise((resolve, reject) => {
    const timer =
      options.timeoutMs === undefined
        ? undefined
        : setTimeout(() => {
            child.kill('SIGKILL');
            reject(new Error(`cimmeria serve did not listen within ${options.timeoutMs} ms:\n${stderr}\n${stdout}`));
          }, options.timeoutMs);
    child.stderr!.setEncoding('utf8').on('data', (d: string) => {
      stderr += d;
      // The first URL of the line: the server's own (`--host H`) or, on all interfaces, the one for this machine.
      const match = /Cimmeria listening on [^\n]*?(http:\/\/[^\s,;]+)/.exec(stderr);
      if (match) {
        clearTimeout(timer);
        resolve({
          url: match[1]!,
          child,
          stdout: () => stdout,
          stderr: () => stderr,
          stop: async (signal = 'SIGTERM') => {
            if (child.exitCode === null && child.signalCode === null) child.kill(signal);
            return exited;
          },
        });
      }
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`cimmeria serve exited with ${code} before listening:\n${stderr}\n${stdout}`));
    });
  });
}

/** A fresh temporary directory and its removal. */
export async function tempDir(prefix = 'cimmeria-cli-'): Promise<{ dir: string; remove: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  return { dir, remove: () => rm(dir, { recursive: true, force: true }) };
}

export const basic = (user: string, password: string) =>
  `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

/** Status of `GET /v2/users/authenticate` with these credentials, and the token on success. */
export async function login(url: string, user: string, password: string): Promise<{ status: number; token: string }> {
  const response = await fetch(`${url}/v2/users/authenticate`, { headers: { authorization: basic(user, password) } });
  return { status: response.status, token: await response.text() };
}
