import { loadConfig } from '../config/load-config.js';
import { UsageError } from '../errors.js';
import { createLogger } from '../logging.js';
import { startServer } from '../server.js';
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
  -h, --help                show this help

Web UI: /ui/ (a browser opening / lands there); ui: false or CIMMERIA_UI=false turns it off.
Probes: GET /healthz (alive) and /readyz (stores reachable, not draining).
On SIGTERM or SIGINT: /readyz turns 503, requests are still served for
drainDelayMs (default 5 s), then the listener closes, requests in flight
finish (at most shutdownTimeoutMs, default 60 s) and the process exits 0.
A second signal exits at once.

Precedence: flags > CIMMERIA_* environment > config file > conan_server conf > defaults.
`;

const OPTIONS = {
  port: { type: 'string' },
  host: { type: 'string' },
  ...BACKEND_OPTIONS,
  'conan-server-conf': { type: 'string' },
  'log-level': { type: 'string' },
  'max-upload-bytes': { type: 'string' },
} as const;

/**
 * `cimmeria serve`: starts the server and runs until SIGINT or SIGTERM,
 * then stops listening, lets in-flight requests finish, closes the
 * database and resolves with exit code 0. A second signal exits at once.
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
    },
  });
  const logger = createLogger(config.logLevel);
  const server = await startServer(config, { logger });

  return new Promise<number>((resolve) => {
    let stopping = false;
    const stop = (signal: NodeJS.Signals) => {
      if (stopping) {
        logger.warn({ signal }, 'second signal: exiting without waiting');
        process.exit(1);
      }
      stopping = true;
      logger.info({ signal }, 'shutting down');
      server.close().then(
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
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
}
