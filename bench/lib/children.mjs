// Child processes and temp directories of a benchmark, and their removal on exit, error or
// Ctrl-C: a benchmark that dies half-way must not leave servers running or files behind.
import { fork } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';

const here = new URL('.', import.meta.url).pathname;
const children = new Set();
const tempDirs = new Set();

/** Kills every child still running and removes every temp directory handed to `removeOnExit`. */
export function cleanupSync() {
  for (const child of children) {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
  children.clear();
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
  tempDirs.clear();
}

let installed = false;
/** Cleans up when the process exits or gets SIGINT, SIGTERM or SIGHUP (then exits 130). */
export function cleanupOnExit() {
  if (installed) return;
  installed = true;
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
    process.on(signal, () => {
      console.error(`\n${signal}: stopping, cleaning up`);
      cleanupSync();
      process.exit(130);
    });
  }
  process.on('exit', cleanupSync);
}

/** Registers `dir` for removal by `cleanupSync`; returns it. */
export function removeOnExit(dir) {
  tempDirs.add(dir);
  return dir;
}

/** Removes `dir` now (it was registered with `removeOnExit`). */
export function removeNow(dir) {
  rmSync(dir, { recursive: true, force: true });
  tempDirs.delete(dir);
}

/** Has `cleanupSync` kill `child` if it is still running then; returns it. */
export function killOnExit(child) {
  children.add(child);
  child.once('exit', () => children.delete(child));
  return child;
}

/** Forks `bench/lib/<script>` with an IPC channel; `cleanupSync` kills it if it is still running. */
export function startChild(script, { env = {}, args = [], execArgv = [] } = {}) {
  const child = fork(join(here, script), args, {
    env: { ...process.env, ...env },
    execArgv,
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  return killOnExit(child);
}

/** The next IPC message of `type` from a child, failing if it exits or takes too long. */
export function nextMessage(child, type, timeoutMs = 30_000) {
  return new Promise((resolvePromise, reject) => {
    const timer = setTimeout(() => done(new Error(`${type} from child ${child.pid}: timed out`)), timeoutMs);
    const onMessage = (message) => message?.type === type && done(undefined, message);
    const onExit = (code, signal) => done(new Error(`child ${child.pid} exited (${signal ?? code}) before ${type}`));
    function done(error, message) {
      clearTimeout(timer);
      child.off('message', onMessage);
      child.off('exit', onExit);
      if (error) reject(error);
      else resolvePromise(message);
    }
    child.on('message', onMessage);
    child.once('exit', onExit);
  });
}

/** Starts a server child (`bench/lib/<script>`) and waits for its `ready` message with its URL. */
export async function startServer(script, env, execArgv) {
  const child = startChild(script, { env, execArgv });
  const { url } = await nextMessage(child, 'ready');
  return { child, url, pid: child.pid };
}

/** Asks a child to stop, killing it if it has not exited 5 s later. */
export async function stopChild(child) {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  if (child.connected) child.send({ type: 'stop' });
  const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
  await exited;
  clearTimeout(timer);
}

/** Runs a benchmark's `main`: a failure is printed and sets exit status 1; cleans up after it. */
export async function runBenchmark(main) {
  try {
    await main();
  } catch (error) {
    console.error(`\nbenchmark failed: ${error?.stack ?? error}`);
    process.exitCode = 1;
  } finally {
    cleanupSync();
  }
}
