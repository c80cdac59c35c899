import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { nginxConf } from './nginx-conf.mjs';

const require = createRequire(import.meta.url);
/** The `cimmeria` command of the installed package (its `bin`, which checks the Node.js version first). */
export const CIMMERIA_BIN = join(dirname(require.resolve('cimmeria/package.json')), require('cimmeria/package.json').bin.cimmeria);

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** A free TCP port on 127.0.0.1 (bound, then released: nginx needs the node ports before the nodes run). */
async function freePort() {
  const server = createServer();
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** The environment without the caller's CIMMERIA_* settings, plus `extra`. */
function nodeEnv(extra) {
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('CIMMERIA_')));
  return { ...env, ...extra };
}

/** Runs a short `cimmeria` command; resolves with its exit code and output. */
function runCimmeria(args, env) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CIMMERIA_BIN, ...args], { env: nodeEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, output }));
  });
}

async function waitFor(url, { timeoutMs = 30_000, exited } = {}) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (exited?.()) throw new Error(`process exited before ${url} answered`);
    try {
      const response = await fetch(url);
      if (response.ok) return;
    } catch {
      // not listening yet
    }
    await sleep(50);
  }
  throw new Error(`${url} did not answer 200 within ${timeoutMs} ms`);
}

/**
 * One `cimmeria serve` process on a fixed port, which can be stopped and
 * started again as a rolling restart does.
 */
export class ClusterNode {
  /** @param {{ index: number, port: number, dataDir: string, logFile: string, env: Record<string,string> }} options */
  constructor(options) {
    this.index = options.index;
    this.port = options.port;
    this.url = `http://127.0.0.1:${options.port}`;
    this.options = options;
    /** @type {import('node:child_process').ChildProcess | undefined} */
    this.child = undefined;
    this.exit = undefined;
  }

  /** Starts the process and resolves once its /readyz answers 200. */
  async start() {
    const { dataDir, logFile, env } = this.options;
    const log = createWriteStream(logFile, { flags: 'a' });
    const child = spawn(
      process.execPath,
      [CIMMERIA_BIN, 'serve', '--port', String(this.port), '--host', '127.0.0.1', '--data', dataDir],
      { env: nodeEnv(env), stdio: ['ignore', 'pipe', 'pipe'] },
    );
    child.stdout.pipe(log);
    child.stderr.pipe(log);
    let exited = false;
    this.exit = new Promise((resolve) =>
      child.on('close', (code, signal) => {
        exited = true;
        resolve(code ?? signal);
      }),
    );
    this.child = child;
    await waitFor(`${this.url}/readyz`, { exited: () => exited });
  }

  /** Sends `signal` (SIGTERM: drain and stop; SIGKILL: die at once) and resolves with the exit code or signal. */
  async stop(signal = 'SIGTERM') {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return this.exit;
    child.kill(signal);
    return this.exit;
  }

  /** Stops with SIGTERM, waits for the exit, starts again. Resolves with the exit code. */
  async restart() {
    const code = await this.stop('SIGTERM');
    await this.start();
    return code;
  }
}

/**
 * Starts N Cimmeria nodes on one PostgreSQL database and one S3 bucket, and
 * nginx in front of them. Creates the `admin` user (password returned) so
 * nodes starting together do not each invent one.
 *
 * @param {{
 *   nodes?: number,
 *   port?: number,
 *   database: string,
 *   databaseSchema?: string,
 *   storage: string,
 *   drainDelayMs?: number,
 *   shutdownTimeoutMs?: number,
 *   dir?: string,
 *   nginx?: string,
 *   env?: Record<string, string>,
 * }} options
 */
export async function startCluster(options) {
  const dir = options.dir ?? (await mkdtemp(join(tmpdir(), 'cimmeria-cluster-')));
  const env = {
    CIMMERIA_DATABASE: options.database,
    ...(options.databaseSchema ? { CIMMERIA_DATABASE_SCHEMA: options.databaseSchema } : {}),
    CIMMERIA_STORAGE: options.storage,
    // One signing secret for every node: a token from one is valid on all.
    CIMMERIA_TOKEN_SECRET: randomBytes(32).toString('base64url'),
    CIMMERIA_DRAIN_DELAY_MS: String(options.drainDelayMs ?? 5000),
    CIMMERIA_SHUTDOWN_TIMEOUT_MS: String(options.shutdownTimeoutMs ?? 60_000),
    CIMMERIA_LOG_LEVEL: 'warn',
    // Behind nginx: failed logins are counted per client, not per nginx.
    CIMMERIA_TRUST_PROXY: '1',
    ...options.env,
  };

  const migrated = await runCimmeria(['migrate', '--data', dir], env);
  if (migrated.code !== 0) throw new Error(`cimmeria migrate failed:\n${migrated.output}`);
  const adminPassword = randomBytes(12).toString('base64url');
  const added = await runCimmeria(['user', 'add', 'admin', `--password=${adminPassword}`, '--data', dir], env);
  if (added.code !== 0) {
    const changed = await runCimmeria(['user', 'passwd', 'admin', `--password=${adminPassword}`, '--data', dir], env);
    if (changed.code !== 0) throw new Error(`cannot set the admin password:\n${added.output}${changed.output}`);
  }

  const count = options.nodes ?? 2;
  const nodes = [];
  for (let index = 0; index < count; index++) {
    const dataDir = join(dir, `node-${index}`);
    await mkdir(dataDir, { recursive: true });
    nodes.push(new ClusterNode({ index, port: await freePort(), dataDir, logFile: join(dir, `node-${index}.log`), env }));
  }
  await Promise.all(nodes.map((node) => node.start()));

  const port = options.port || (await freePort());
  for (const name of ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi']) {
    await mkdir(join(dir, 'tmp', name), { recursive: true });
    // nginx workers run as an unprivileged user when started as root.
    await chmod(join(dir, 'tmp', name), 0o777);
  }
  await writeFile(join(dir, 'nginx.conf'), nginxConf({ port, nodePorts: nodes.map((n) => n.port), dir }));
  const nginx = spawn(options.nginx ?? 'nginx', ['-p', dir, '-c', join(dir, 'nginx.conf'), '-g', 'daemon off;'], {
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  let nginxExited = false;
  const nginxExit = new Promise((resolve) =>
    nginx.on('close', (code) => {
      nginxExited = true;
      resolve(code);
    }),
  );
  nginx.on('error', () => (nginxExited = true));
  const url = `http://127.0.0.1:${port}`;
  try {
    await waitFor(`${url}/v2/ping`, { exited: () => nginxExited });
  } catch (error) {
    await Promise.all(nodes.map((node) => node.stop()));
    throw new Error(`nginx did not start (is it installed? apt-get install nginx-light): ${error.message}`);
  }

  return {
    /** The URL clients use: nginx. */
    url,
    adminPassword,
    nodes,
    dir,
    /** nginx's access log: method, path, status, upstream, upstream status, bytes from upstream, bytes sent, time. */
    accessLog: join(dir, 'access.log'),
    /** Stops nginx and every node (SIGTERM, so they drain). */
    async stop({ removeDir = !options.dir } = {}) {
      nginx.kill('SIGQUIT');
      await nginxExit;
      await Promise.all(nodes.map((node) => node.stop()));
      if (removeDir) await rm(dir, { recursive: true, force: true });
    },
  };
}
