/** IPC between `cimmeria serve --workers N`'s primary and its workers. */

/** Set by the primary in each worker's environment: the worker's slot, 1..N. Not a setting (no CIMMERIA_ prefix). */
export const WORKER_SLOT_ENV = '_CIMMERIA_WORKER_SLOT';

/** Worker to primary. */
export type WorkerMessage =
  /** A line for the person who started the server (admin password, warnings, listening). */
  | { cimmeria: 'notify'; line: string }
  /** The worker serves requests. */
  | { cimmeria: 'ready'; port: number };

/** Primary to worker: drain and exit (as on SIGTERM); `now`: without the drain delay. */
export type PrimaryMessage = { cimmeria: 'shutdown'; now?: boolean };

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null;

export function isWorkerMessage(value: unknown): value is WorkerMessage {
  if (!isObject(value)) return false;
  if (value.cimmeria === 'notify') return typeof value.line === 'string';
  if (value.cimmeria === 'ready') return Number.isInteger(value.port);
  return false;
}

export function isPrimaryMessage(value: unknown): value is PrimaryMessage {
  return isObject(value) && value.cimmeria === 'shutdown';
}
