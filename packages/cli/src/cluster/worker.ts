import type { CimmeriaConfig } from '../config/schema.js';
import { LISTENING_PREFIX } from '../listen-address.js';
import type { Logger } from '../logging.js';
import { startServer, type RunningServer } from '../server.js';
import { isPrimaryMessage, type WorkerMessage } from './messages.js';
import { clusterMetricsText } from './worker-metrics.js';

/**
 * Resolves with the exit code once `server` has stopped: on SIGINT or
 * SIGTERM it drains (see {@link RunningServer.close}); a second signal exits
 * at once with code 1. With `ipc`, the primary's shutdown message drains
 * too, and does not count as a signal: a worker that gets both (Ctrl-C
 * reaches the whole process group) still drains.
 */
export function untilStopped(server: RunningServer, logger: Logger, { ipc = false } = {}): Promise<number> {
  return new Promise<number>((resolve) => {
    let stopping = false;
    let signals = 0;
    const stop = (fields: Record<string, unknown>, options?: { drainDelayMs: number }) => {
      if (stopping) return;
      stopping = true;
      logger.info(fields, 'shutting down');
      server.close(options).then(
        () => {
          logger.info('stopped');
          resolve(0);
        },
        (error: unknown) => {
          logger.error({ err: error }, 'error while shutting down');
          resolve(1);
        },
      );
    };
    const onSignal = (signal: NodeJS.Signals) => {
      if (++signals > 1) {
        logger.warn({ signal }, 'second signal: exiting without waiting');
        process.exit(1);
      }
      stop({ signal });
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    if (ipc) {
      process.on('message', (message: unknown) => {
        if (!isPrimaryMessage(message) || message.cimmeria !== 'shutdown') return;
        stop({ by: 'primary' }, message.now ? { drainDelayMs: 0 } : undefined);
      });
    }
  });
}

/**
 * A worker of `cimmeria serve --workers N`: runs the server on the port the
 * primary shares, sends it the lines meant for the person who started the
 * server (the primary prints the first worker's) and says when it serves.
 */
export async function runWorker(config: CimmeriaConfig, logger: Logger): Promise<number> {
  const send = (message: WorkerMessage) => process.send?.(message);
  const server = await startServer(config, {
    logger,
    metricsText: clusterMetricsText,
    // The primary prints one listening line, once every worker serves.
    notify: (line) => {
      if (!line.startsWith(LISTENING_PREFIX)) send({ cimmeria: 'notify', line });
    },
  });
  const stopped = untilStopped(server, logger, { ipc: true });
  send({ cimmeria: 'ready', port: server.port });
  return stopped;
}
