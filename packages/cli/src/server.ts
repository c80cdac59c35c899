import { createConanHandler, type FetchHandler } from '@cimmeria/core';
import { createMetrics } from '@cimmeria/core/metrics';
import { createWebUi } from '@cimmeria/web';
import { serveNode, toNodeListener, type NodeListener } from '@cimmeria/core/node';
import { BOOTSTRAP_ADMIN, buildRegistry } from './build-registry.js';
import type { JsonMetricsSource } from './cluster/worker-metrics.js';
import type { CimmeriaConfig } from './config/schema.js';
import { exposedDataWarnings } from './data-dir.js';
import { CommandError } from './errors.js';
import { listeningLine } from './listen-address.js';
import { withMetricsEndpoint } from './metrics-endpoint.js';
import { logHandlerError } from './log-handler-error.js';
import { createLogger, withRequestLog, type Logger } from './logging.js';

/** Options of {@link startServer}. */
export interface StartServerOptions {
  /** Where request and lifecycle logs go. Default: a JSON logger on stdout at `config.logLevel`. */
  logger?: Logger;
  /**
   * Receives the lines meant for the person who started the server: the URL,
   * the bootstrap admin password, the permissions in force. Default: stderr.
   */
  notify?: (line: string) => void;
  /**
   * What a scrape of `metricsPath` answers, given this process's registry.
   * Default: this process's metrics. `cimmeria serve --workers N` sums every worker's.
   */
  metricsText?: (local: JsonMetricsSource) => () => Promise<string>;
}

/** A running standalone server. */
export interface RunningServer {
  /**
   * `http://host:port`, with the port actually bound: a URL that reaches the
   * server from this machine (`127.0.0.1` when it listens on all interfaces).
   */
  url: string;
  port: number;
  /** The password of the `admin` user created by this start, if one was. */
  createdAdminPassword?: string;
  /**
   * Drains, then stops: `/readyz` turns 503 at once and responses ask
   * clients to close their connections; after `drainDelayMs` (default
   * `config.drainDelayMs`) the listener stops accepting; requests in flight
   * finish, those still running after `timeoutMs` (default
   * `config.shutdownTimeoutMs`) are cut off (an upload cut off is not
   * published); then the stores are closed.
   */
  close(options?: { drainDelayMs?: number; timeoutMs?: number }): Promise<void>;
  /** True from the moment `close` is called. */
  readonly draining: boolean;
}

/** A browser opening the server's address lands on the UI; Conan clients never ask for `/`. */
function withUiAtRoot(handler: FetchHandler): FetchHandler {
  return (request, context) => {
    if (request.method === 'GET' && new URL(request.url).pathname === '/') {
      return Promise.resolve(new Response(null, { status: 302, headers: { location: '/ui/', 'cache-control': 'no-cache' } }));
    }
    return handler(request, context);
  };
}

function adminBanner(password: string): string[] {
  const rule = '='.repeat(72);
  return [
    rule,
    `Created user '${BOOTSTRAP_ADMIN}' with password: ${password}`,
    'This password is shown only once. Change it with: cimmeria user passwd admin',
    rule,
  ];
}

/**
 * Runs Cimmeria standalone: the configured metadata database (migrated at
 * start) and blob store, the Conan API on `config.host:config.port` with
 * one log line per request.
 */
export async function startServer(config: CimmeriaConfig, options: StartServerOptions = {}): Promise<RunningServer> {
  const logger = options.logger ?? createLogger(config.logLevel);
  const notify = options.notify ?? ((line: string) => process.stderr.write(`${line}\n`));
  // Node's default metrics too: this process is Cimmeria's alone.
  const metrics = config.metrics ? createMetrics({ defaultMetrics: true }) : undefined;
  const opened = await buildRegistry(config, {
    ...(metrics ? { metrics } : {}),
    onPoolError: (error) => logger.warn({ err: error }, 'database connection lost; the pool reconnects on demand'),
    onDirectoryError: (error) => logger.warn({ err: error }, 'LDAP directory failed during a login or an API token check; answered 503'),
  });
  if (metrics && opened.metadata.poolUsage) metrics.observePool(opened.metadata.poolUsage);
  let draining = false;
  const conan = createConanHandler(opened.registry, {
    onError: logHandlerError(logger),
    health: { healthPath: config.healthPath, readyPath: config.readyPath, draining: () => draining },
    trustProxy: config.trustProxy,
    ...(config.ui ? { ui: createWebUi() } : {}),
  });
  const served = config.ui ? withUiAtRoot(conan) : conan;
  const handler: FetchHandler = metrics
    ? withMetricsEndpoint(served, {
        metrics,
        path: config.metricsPath,
        ...(options.metricsText ? { text: options.metricsText(metrics.registry) } : {}),
        ...(config.metricsToken === undefined ? {} : { token: config.metricsToken }),
      })
    : served;
  const logged = withRequestLog(toNodeListener(handler), logger);
  // While draining, every response closes its connection, so that no client
  // (nor a load balancer's keep-alive pool) holds one when the listener closes.
  const listener: NodeListener = (req, res) => {
    if (draining) res.setHeader('connection', 'close');
    return logged(req, res);
  };
  let server;
  try {
    server = await serveNode({ listener }, {
      port: config.port,
      host: config.host,
      headersTimeoutMs: config.headersTimeoutMs,
      connectionIdleTimeoutMs: config.connectionIdleTimeoutMs,
      keepAliveTimeoutMs: config.keepAliveTimeoutMs,
      maxConnections: config.maxConnections,
    });
  } catch (error) {
    await opened.close();
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE' || code === 'EACCES' || code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND') {
      throw new CommandError(`Cannot listen on ${config.host}:${config.port}: ${(error as Error).message}`);
    }
    throw error;
  }

  if (opened.createdAdminPassword) adminBanner(opened.createdAdminPassword).forEach((line) => notify(line));
  if (opened.writeRules.defaulted) {
    notify(
      opened.writeRules.rules.length > 0
        ? `No write permissions configured: only user '${BOOTSTRAP_ADMIN}' may upload and delete.`
        : 'No write permissions configured: nobody may upload or delete.',
    );
  }
  if (opened.localTokenSecret && !opened.metadata.description.startsWith('sqlite:')) {
    notify(
      `No tokenSecret configured: tokens are signed with ${config.data}/token-secret, which other nodes do not share. ` +
        'Set CIMMERIA_TOKEN_SECRET (the same on every node) to run several nodes.',
    );
  }
  for (const line of await exposedDataWarnings(config)) notify(line);
  // Descriptions are redacted: no password or secret key reaches the log.
  logger.info(
    { url: server.url, host: config.host, port: server.port, database: opened.metadata.description, storage: opened.blobs.description },
    'listening',
  );
  // Where it really listens: on 0.0.0.0 that is every interface, not only the loopback URL above.
  notify(listeningLine(config.host, server.port));

  let closing: Promise<void> | undefined;
  const close = async ({ drainDelayMs = config.drainDelayMs, timeoutMs = config.shutdownTimeoutMs } = {}) => {
    draining = true;
    logger.info({ drainDelayMs }, 'draining: /readyz answers 503; still serving until the delay is over');
    await new Promise((resolve) => setTimeout(resolve, drainDelayMs));
    const http = server.server;
    logger.info({ inFlightTimeoutMs: timeoutMs }, 'no longer accepting connections; finishing requests in flight');
    // A long upload would hold close() forever: cut what is left after the timeout.
    const force = setTimeout(() => {
      logger.warn('shutdown timeout: closing the connections still busy');
      http.closeAllConnections();
    }, timeoutMs);
    force.unref();
    try {
      // Connections accepted just before the listener closed get their request served, not reset.
      await server.close({ idleGraceMs: Math.min(1000, drainDelayMs) });
    } finally {
      clearTimeout(force);
      // Download counts are batched in memory: write them before the database closes.
      await opened.registry.service.flushDownloadCounts();
      await opened.close();
    }
  };
  return {
    url: server.url,
    port: server.port,
    createdAdminPassword: opened.createdAdminPassword,
    close: (opts) => (closing ??= close(opts)),
    get draining() {
      return draining;
    },
  };
}
