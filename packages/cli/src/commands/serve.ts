import cluster from 'node:cluster';
import { WORKER_SLOT_ENV } from '../cluster/messages.js';
import { loadConfig } from '../config/load-config.js';
import { UsageError } from '../errors.js';
import { createLogger } from '../logging.js';
import { BACKEND_OPTIONS, BACKEND_USAGE } from './backend-options.js';
import { parseCommandLine } from './parse.js';

export const SERVE_USAGE = `Usage: cimmeria serve [options]

Runs the Conan 2 repository server. Metadata in SQLite or PostgreSQL, blobs
in a directory or S3 (by default both in the data directory); pending
migrations are applied at start (on PostgreSQL under an advisory lock, so
nodes starting together migrate once).

Options:
  --port N                  port to listen on (default 9300; 0 picks a free one)   [CIMMERIA_PORT]
  --host H                  address to listen on (default 0.0.0.0)                 [CIMMERIA_HOST]
${BACKEND_USAGE}
  --conan-server-conf FILE  take users, permissions, port and jwt settings from a
                            conan_server server.conf
  --log-level LEVEL         trace, debug, info, warn, error, fatal or silent       [CIMMERIA_LOG_LEVEL]
  --max-upload-bytes SIZE   largest accepted file, e.g. 10GiB                      [CIMMERIA_MAX_UPLOAD_BYTES]
  --workers N               processes serving the port (default: the number of     [CIMMERIA_WORKERS]
                            cores; 1: a single process)
  -h, --help                show this help

Web UI: /ui/ (a browser opening / lands there); ui: false or CIMMERIA_UI=false turns it off.
Probes: GET /healthz (alive) and /readyz (stores reachable, not draining).
On SIGTERM or SIGINT: /readyz turns 503, requests are still served for
drainDelayMs (default 5 s), then the listener closes, requests in flight
finish (at most shutdownTimeoutMs, default 60 s) and the process exits 0.
A second signal exits at once. With several workers, the primary process
tells each to drain so, and exits 0 when they all did; a worker that dies
is replaced.

Precedence: flags > CIMMERIA_* environment > config file > conan_server conf > defaults.
`;

const OPTIONS = {
  port: { type: 'string' },
  host: { type: 'string' },
  ...BACKEND_OPTIONS,
  'conan-server-conf': { type: 'string' },
  'log-level': { type: 'string' },
  'max-upload-bytes': { type: 'string' },
  workers: { type: 'string' },
} as const;

/**
 * `cimmeria serve`: starts the server and runs until SIGINT or SIGTERM,
 * then stops listening, lets in-flight requests finish, closes the
 * database and resolves with exit code 0. A second signal exits at once.
 * With `workers` above 1, this process becomes the primary of that many
 * worker processes (node:cluster), each running the server.
 */
export async function serveCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseCommandLine(args, OPTIONS, 'serve');
  if (values.help) {
    process.stdout.write(SERVE_USAGE);
    return 0;
  }
  if (positionals.length > 0) throw new UsageError(`Unexpected argument '${positionals[0]}'\nRun 'cimmeria serve --help' for usage.`);
  const config = await loadConfig({
    configFile: values.config,
    conanServerConf: values['conan-server-conf'],
    flags: {
      port: values.port,
      host: values.host,
      data: values.data,
      database: values.database,
      storage: values.storage,
      logLevel: values['log-level'],
      maxUploadBytes: values['max-upload-bytes'],
      workers: values.workers,
    },
  });
  // A worker of `--workers N` (forked by the primary below): serves, reports to the primary.
  const slot = cluster.isWorker ? process.env[WORKER_SLOT_ENV] : undefined;
  if (slot !== undefined) {
    const logger = createLogger(config.logLevel, undefined, { worker: Number(slot) });
    const { runWorker } = await import('../cluster/worker.js');
    return runWorker(config, logger);
  }
  // Already a worker of another cluster (pm2...): that one spreads the load.
  if (config.workers > 1 && cluster.isPrimary) {
    const logger = createLogger(config.logLevel, undefined, { role: 'primary' });
    // Loads neither the server nor its backends: the primary only keeps the workers running.
    const { runPrimary } = await import('../cluster/primary.js');
    return runPrimary({
      workers: config.workers,
      host: config.host,
      logger,
      notify: (line) => process.stderr.write(`${line}\n`),
    });
  }
  const logger = createLogger(config.logLevel);
  const { untilStopped } = await import('../cluster/worker.js');
  const { startServer } = await import('../server.js');
  const server = await startServer(config, { logger });
  return untilStopped(server, logger);
}
