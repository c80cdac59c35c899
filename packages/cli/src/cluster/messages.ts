/** IPC between `cimmeria serve --workers N`'s primary and its workers. */

/** Set by the primary in each worker's environment: the worker's slot, 1..N. Not a setting (no CIMMERIA_ prefix). */
export const WORKER_SLOT_ENV = '_CIMMERIA_WORKER_SLOT';

/** Worker to primary. */
export type WorkerMessage =
  /** A line for the person who started the server (admin password, warnings, listening). */
  | { cimmeria: 'notify'; line: string }
  /** The worker serves requests. */
  | { cimmeria: 'ready'; port: number }
  /** A scrape reached this worker: the primary gathers every worker's metrics. */
  | { cimmeria: 'metrics-request'; id: number }
  /** This worker's metrics (prom-client's JSON form), for gathering `id`. */
  | { cimmeria: 'metrics-part'; id: number; metrics: unknown[] };

/** Primary to worker. */
export type PrimaryMessage =
  /** Drain and exit (as on SIGTERM); `now`: without the drain delay. */
  | { cimmeria: 'shutdown'; now?: boolean }
  /** Send your metrics for gathering `id`. */
  | { cimmeria: 'metrics-collect'; id: number }
  /** Every worker's metrics summed, in Prometheus text, for request `id`. */
  | { cimmeria: 'metrics-result'; id: number; text?: string; error?: string };

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null;

export function isWorkerMessage(value: unknown): value is WorkerMessage {
  if (!isObject(value)) return false;
  switch (value.cimmeria) {
    case 'notify':
      return typeof value.line === 'string';
    case 'ready':
      return Number.isInteger(value.port);
    case 'metrics-request':
      return Number.isInteger(value.id);
    case 'metrics-part':
      return Number.isInteger(value.id) && Array.isArray(value.metrics);
    default:
      return false;
  }
}

export function isPrimaryMessage(value: unknown): value is PrimaryMessage {
  if (!isObject(value)) return false;
  switch (value.cimmeria) {
    case 'shutdown':
      return true;
    case 'metrics-collect':
      return Number.isInteger(value.id);
    case 'metrics-result':
      return Number.isInteger(value.id);
    default:
      return false;
  }
}
