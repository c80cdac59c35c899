import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { RegistryMetrics } from './registry-metrics.js';

/** A connection pool's usage, as pg's `Pool` counts it. */
export interface PoolUsage {
  total: number;
  idle: number;
  waiting: number;
}

/** Options of {@link createMetrics}. */
export interface CreateMetricsOptions {
  /**
   * The prom-client registry to register Cimmeria's metrics in, e.g. the
   * host's own (`import { register } from 'prom-client'`). Default: a new
   * registry of its own. Use the same prom-client copy as the host.
   */
  registry?: Registry;
  /**
   * Also collect Node's default metrics (event loop lag, heap, GC...) into
   * that registry. Default `false`, so a host registry already collecting
   * them is not given duplicates; `cimmeria serve` turns it on.
   */
  defaultMetrics?: boolean;
  /** Prefix of every metric name. Default `cimmeria_`. */
  prefix?: string;
}

/** Cimmeria's Prometheus metrics: pass to `createRegistry({ metrics })`, scrape `registry`. */
export interface CimmeriaMetrics extends RegistryMetrics {
  /** The prom-client registry holding the metrics. */
  readonly registry: Registry;
  /**
   * Reports a connection pool's usage at each scrape (gauges
   * `<prefix>db_pool_connections{state="total|idle|waiting"}`), e.g. with
   * `() => ({ total: pool.totalCount, idle: pool.idleCount, waiting: pool.waitingCount })`.
   */
  observePool(usage: () => PoolUsage): void;
}

// Seconds: from a cached metadata read to a large upload.
const REQUEST_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];
const BACKEND_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/**
 * Creates Cimmeria's metrics on prom-client: request counts and durations
 * by operation, bytes moved, transfers in flight, publications, deletes,
 * login failures, store call durations and errors, and (with
 * {@link CimmeriaMetrics.observePool}) database pool usage.
 *
 * @example
 * import { register } from 'prom-client';
 * const metrics = createMetrics({ registry: register });
 * const registry = createRegistry({ metadata, blobs, authenticator, tokens, metrics });
 */
export function createMetrics(options: CreateMetricsOptions = {}): CimmeriaMetrics {
  const registry = options.registry ?? new Registry();
  const p = options.prefix ?? 'cimmeria_';
  const registers = [registry];
  if (options.defaultMetrics) collectDefaultMetrics({ register: registry });

  const requests = new Counter({
    name: `${p}http_requests_total`,
    help: 'HTTP requests answered, by operation (route name, or unknown) and status.',
    labelNames: ['operation', 'status'] as const,
    registers,
  });
  const duration = new Histogram({
    name: `${p}http_request_duration_seconds`,
    help: 'Seconds from a request to its answer (headers; a streamed download body is not included), by operation.',
    labelNames: ['operation'] as const,
    buckets: REQUEST_BUCKETS,
    registers,
  });
  const uploadBytes = new Counter({ name: `${p}upload_bytes_total`, help: 'Bytes of upload bodies read.', registers });
  const downloadBytes = new Counter({ name: `${p}download_bytes_total`, help: 'Bytes of download bodies sent.', registers });
  const redirects = new Counter({
    name: `${p}download_redirects_total`,
    help: 'Downloads answered with a redirect to the blob store.',
    registers,
  });
  const uploadsInFlight = new Gauge({ name: `${p}uploads_in_flight`, help: 'Upload bodies being read now.', registers });
  const downloadsInFlight = new Gauge({
    name: `${p}downloads_in_flight`,
    help: 'Download bodies being streamed now.',
    registers,
  });
  const publications = new Counter({
    name: `${p}publications_total`,
    help: 'Revisions published (conanmanifest.txt recorded), by kind (recipe, package).',
    labelNames: ['kind'] as const,
    registers,
  });
  const deletes = new Counter({
    name: `${p}deletes_total`,
    help: 'Successful deletes, by operation.',
    labelNames: ['operation'] as const,
    registers,
  });
  const loginFailures = new Counter({ name: `${p}login_failures_total`, help: 'Logins refused.', registers });
  const backendDuration = new Histogram({
    name: `${p}backend_call_duration_seconds`,
    help: 'Seconds of metadata and blob store calls, by backend and method.',
    labelNames: ['backend', 'method'] as const,
    buckets: BACKEND_BUCKETS,
    registers,
  });
  const backendErrors = new Counter({
    name: `${p}backend_call_errors_total`,
    help: 'Metadata and blob store calls that failed, by backend and method.',
    labelNames: ['backend', 'method'] as const,
    registers,
  });
  const pools: Array<() => PoolUsage> = [];
  new Gauge({
    name: `${p}db_pool_connections`,
    help: 'Database pool connections, by state (total, idle, waiting = requests waiting for one).',
    labelNames: ['state'] as const,
    registers,
    collect() {
      if (pools.length === 0) return;
      const sum = { total: 0, idle: 0, waiting: 0 };
      for (const usage of pools) {
        const u = usage();
        sum.total += u.total;
        sum.idle += u.idle;
        sum.waiting += u.waiting;
      }
      for (const [state, value] of Object.entries(sum)) this.set({ state }, value);
    },
  });

  const inFlight = (gauge: Gauge) => () => {
    gauge.inc();
    let done = false;
    return () => {
      if (done) return;
      done = true;
      gauge.dec();
    };
  };

  // Label children cached by value: prom-client hashes the label object on every call otherwise.
  // The label values are bounded (route names, statuses, store methods), so the maps are too.
  const cached = <T>(make: (key: string) => T) => {
    const children = new Map<string, T>();
    return (key: string) => {
      let child = children.get(key);
      if (child === undefined) children.set(key, (child = make(key)));
      return child;
    };
  };
  const requestsOf = cached((key) => {
    const [operation, status] = key.split(' ') as [string, string];
    return requests.labels({ operation, status });
  });
  const durationOf = cached((operation) => duration.labels({ operation }));
  const backendDurationOf = cached((key) => {
    const [backend, method] = key.split(' ') as [string, string];
    return backendDuration.labels({ backend, method });
  });

  return {
    registry,
    observePool: (usage) => void pools.push(usage),
    requestAnswered(operation, status, seconds) {
      requestsOf(`${operation} ${status}`).inc();
      durationOf(operation).observe(seconds);
    },
    uploadStarted: inFlight(uploadsInFlight),
    downloadStarted: inFlight(downloadsInFlight),
    uploadedBytes: (bytes) => uploadBytes.inc(bytes),
    downloadedBytes: (bytes) => downloadBytes.inc(bytes),
    downloadRedirected: () => redirects.inc(),
    published: (kind) => publications.inc({ kind }),
    deleted: (operation) => deletes.inc({ operation }),
    loginFailed: () => loginFailures.inc(),
    backendCall(backend, method, seconds, failed) {
      backendDurationOf(`${backend} ${method}`).observe(seconds);
      if (failed) backendErrors.inc({ backend, method });
    },
  };
}
