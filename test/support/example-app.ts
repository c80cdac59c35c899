import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'vitest';
import { login } from './login.js';

/** A running example, started with its own one command. */
export interface RunningExample {
  url: string;
  stop(): Promise<void>;
}

/** Runs `node src/server.mjs` in an example folder on a free port and waits for the URL it prints. */
export async function startExample(folder: string): Promise<RunningExample> {
  const dataDir = await mkdtemp(join(tmpdir(), 'cimmeria-example-'));
  const child: ChildProcess = spawn(process.execPath, ['src/server.mjs'], {
    cwd: folder,
    env: { ...process.env, PORT: '0', DATA_DIR: dataDir, CONAN_USER: 'ci', CONAN_PASSWORD: 'ci-password' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const url = await new Promise<string>((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const match = /on (http:\/\/localhost:\d+) /.exec(output);
      if (match) resolve(match[1]!);
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.once('exit', (code) => reject(new Error(`example exited with ${code}:\n${output}`)));
  });
  return {
    url,
    stop: async () => {
      try {
        if (child.exitCode !== null || child.signalCode !== null) {
          throw new Error(`example died before it was stopped (${child.exitCode ?? child.signalCode}):\n${output}`);
        }
        const exited = new Promise((resolve) => child.once('exit', resolve));
        child.kill('SIGTERM');
        const timeout = new Promise((resolve) => setTimeout(resolve, 15_000, 'timeout'));
        if ((await Promise.race([exited, timeout])) === 'timeout') {
          child.kill('SIGKILL');
          throw new Error(`example did not exit within 15 s of SIGTERM:\n${output}`);
        }
      } finally {
        await rm(dataDir, { recursive: true, force: true });
      }
    },
  };
}

const sha1 = (text: string) => createHash('sha1').update(text).digest('hex');

/** What a user of the example does: host routes, then log in, upload a recipe revision and read it back. */
export async function exerciseExample(url: string): Promise<void> {
  expect(await (await fetch(`${url}/status`)).json()).toEqual({ status: 'ok' });
  const echo = await fetch(`${url}/api/echo`, {
    method: 'POST',
    body: JSON.stringify({ n: 1 }),
    headers: { 'content-type': 'application/json' },
  });
  expect(await echo.json()).toEqual({ echo: { n: 1 } });

  const token = await login(`${url}/conan`, 'ci', 'ci-password');
  const files = `${url}/conan/v2/conans/hello/1.0/_/_/revisions/0a1b2c/files`;
  const contents: Record<string, string> = {
    'conanfile.py': 'from conan import ConanFile\n',
    'conan_export.tgz': 'not really a tarball',
    // Lists the md5 of the conanfile.py above: a manifest contradicting it is refused.
    'conanmanifest.txt': '123\nconanfile.py: 26f894a5c39816cb5094545b02419d22\n',
  };
  for (const [path, body] of Object.entries(contents)) {
    const response = await fetch(`${files}/${path}`, {
      method: 'PUT',
      body,
      headers: { authorization: `Bearer ${token}`, 'x-checksum-sha1': sha1(body) },
    });
    expect(response.status, path).toBe(200);
  }
  const latest = await (await fetch(`${url}/conan/v2/conans/hello/1.0/_/_/latest`)).json();
  expect(latest.revision).toBe('0a1b2c');
  expect(await (await fetch(`${files}/conanfile.py`)).text()).toBe(contents['conanfile.py']);
}

/** Runs `node src/server.mjs` in an example folder until it exits by itself (within 30 s); its exit code and output. */
export async function runExampleToExit(
  folder: string,
  env: Record<string, string>,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const dataDir = await mkdtemp(join(tmpdir(), 'cimmeria-example-'));
  try {
    const child = spawn(process.execPath, ['src/server.mjs'], {
      cwd: folder,
      env: { ...process.env, DATA_DIR: dataDir, CONAN_USER: 'ci', CONAN_PASSWORD: 'ci-password', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const killer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    clearTimeout(killer);
    return { code, stdout, stderr };
  } finally {
    await rm(dataDir, { recursive: true, force: true });
  }
}
