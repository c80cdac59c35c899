import cluster, { type Worker } from 'node:cluster';
import { listeningLine } from '../listen-address.js';
import type { Logger } from '../logging.js';
import { createMetricsGatherer } from './gather-metrics.js';
import { WORKER_SLOT_ENV, isWorkerMessage, type PrimaryMessage } from './messages.js';
import { RestartBackoff, type RestartBackoffOptions } from './restart-backoff.js';

/** Options of {@link runPrimary}. */
export interface PrimaryOptions {
  /** Worker processes to keep running (at least 2; one process needs no primary). */
  workers: number;
  /** The configured host, for the listening line. */
  host: string;
  logger: Logger;
  /** Lines for the person who started the server (the first worker's, then the listening line). */
  notify: (line: string) => void;
  /** Node.js flags of the workers. Default: this process's. */
  execArgv?: string[];
  /** Environment added to the workers'. */
  env?: Record<string, string>;
  backoff?: RestartBackoffOptions;
}

interface Slot {
  /** 1..N, in logs as `worker`; a replacement takes the slot of the worker it replaces. */
  readonly id: number;
  worker?: Worker;
  ready: boolean;
  restart?: NodeJS.Timeout;
}

/**
 * The primary of `cimmeria serve --workers N`: serves nothing itself, keeps
 * N workers listening on one port (node:cluster hands connections out in
 * turn) and resolves with the exit code.
 *
 * Start: the first worker starts alone, so that migrations and the creation
 * of the `admin` user (and the one print of its password) happen once; the
 * others start when it serves. A worker failing before it serves ends the
 * start: every worker stops and the code is that worker's.
 *
 * A worker dying later is replaced after a backoff that doubles while
 * workers keep dying; when none is left and a replacement fails before it
 * serves, the primary gives up (code 1) rather than restart it in a loop.
 *
 * SIGTERM/SIGINT: each worker is told to drain as a single process does
 * (IPC, so a worker that also gets the signal from a terminal or a process
 * group does not count it twice); the code is 0 when every worker exited 0.
 * A second signal kills the workers and exits 1 at once.
 */
export function runPrimary(options: PrimaryOptions): Promise<number> {
  const { logger, notify, workers } = options;
  cluster.setupPrimary({ execArgv: options.execArgv ?? process.execArgv });
  const backoff = new RestartBackoff(options.backoff);
  const slots: Slot[] = Array.from({ length: workers }, (_, index) => ({ id: index + 1, ready: false }));
  let phase: 'starting' | 'running' | 'stopping' = 'starting';
  let exitCode = 0;
  let signals = 0;
  let othersForked = false;

  return new Promise<number>((resolve) => {
    const alive = () => slots.filter((slot) => slot.worker).length;
    const gatherMetrics = createMetricsGatherer(() => slots.flatMap((slot) => (slot.worker && slot.ready ? [slot.worker] : [])));
    const send = (worker: Worker, message: PrimaryMessage) => {
      if (worker.isConnected()) worker.send(message);
    };

    const finishIfDone = () => {
      if (phase !== 'stopping' || alive() > 0) return;
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      logger.info({ code: exitCode }, 'stopped');
      resolve(exitCode);
    };

    const stopAll = (now: boolean) => {
      phase = 'stopping';
      for (const slot of slots) {
        clearTimeout(slot.restart);
        // A worker still starting is told when it reports ready: it may not listen to IPC yet.
        if (slot.worker && slot.ready) send(slot.worker, { cimmeria: 'shutdown', ...(now ? { now } : {}) });
      }
      finishIfDone();
    };

    const fork = (slot: Slot) => {
      const worker = cluster.fork({ ...options.env, [WORKER_SLOT_ENV]: String(slot.id) });
      slot.worker = worker;
      slot.ready = false;
      const pid = worker.process.pid;
      // Only the first worker's lines reach the terminal (admin password, warnings): the others would repeat them.
      const announcing = slot.id === 1 && !othersForked;
      worker.on('message', (message: unknown) => {
        if (!isWorkerMessage(message)) return;
        if (message.cimmeria === 'metrics-request') {
          gatherMetrics(worker, message.id);
          return;
        }
        if (message.cimmeria === 'metrics-part') return; // the gatherer listens for these
        if (message.cimmeria === 'notify') {
          if (announcing) notify(message.line);
          return;
        }
        slot.ready = true;
        logger.info({ worker: slot.id, workerPid: pid }, phase === 'running' ? 'worker replaced' : 'worker ready');
        if (phase === 'stopping') {
          send(worker, { cimmeria: 'shutdown', now: true });
          return;
        }
        if (phase !== 'starting') return;
        // The first worker migrated the database and created admin: the others may start together.
        if (!othersForked) {
          othersForked = true;
          slots.slice(1).forEach(fork);
        }
        if (slots.every((s) => s.ready)) {
          phase = 'running';
          notify(`${listeningLine(options.host, message.port)} with ${workers} workers`);
        }
      });
      worker.on('exit', (code, signal) => {
        const wasReady = slot.ready;
        slot.worker = undefined;
        slot.ready = false;
        const how = { worker: slot.id, workerPid: pid, code, signal };
        if (phase === 'stopping') {
          if (code !== 0) exitCode = 1;
          logger.info(how, 'worker stopped');
          finishIfDone();
          return;
        }
        if (phase === 'starting' && !wasReady) {
          // Its error is on stderr already (a port in use, a database that cannot be opened...).
          logger.error(how, 'worker failed to start; stopping');
          exitCode = code || 1;
          stopAll(true);
          return;
        }
        if (!wasReady && alive() === 0) {
          logger.error(how, 'no worker left and its replacement failed to start; exiting');
          exitCode = 1;
          stopAll(true);
          return;
        }
        const delay = backoff.next();
        logger.warn({ ...how, restartInMs: delay }, 'worker exited unexpectedly; replacing it');
        slot.restart = setTimeout(() => {
          slot.restart = undefined;
          fork(slot);
        }, delay);
      });
    };

    function onSignal(signal: NodeJS.Signals) {
      if (++signals > 1) {
        logger.warn({ signal }, 'second signal: exiting without waiting');
        for (const slot of slots) slot.worker?.process.kill('SIGKILL');
        process.exit(1);
      }
      logger.info({ signal, workers: alive() }, 'shutting down: the workers drain');
      stopAll(false);
    }
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);

    logger.info({ workers }, 'starting workers');
    fork(slots[0]!);
  });
}
