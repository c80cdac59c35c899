import type { Worker } from 'node:cluster';
import { isWorkerMessage } from './messages.js';

/** How long the primary waits for each worker's part; a worker that does not answer is left out. */
const PART_DEADLINE_MS = 5_000;

/**
 * The primary's side of metrics with `--workers N`: asks every worker for
 * its metrics and sums them (prom-client's AggregatorRegistry: counters and
 * histograms add up; Node's default metrics say how they combine).
 * prom-client is loaded at the first scrape, not at start.
 */
export function createMetricsGatherer(workers: () => Worker[]): (requestedBy: Worker, id: number) => void {
  let nextId = 0;
  return (requestedBy, id) => {
    const gatherId = ++nextId;
    const targets = workers();
    const parts: unknown[][] = [];
    let answered = 0;
    let done = false;
    const listeners = new Map<Worker, (message: unknown) => void>();
    const finish = () => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      for (const [worker, listener] of listeners) worker.off('message', listener);
      import('prom-client')
        .then(({ AggregatorRegistry }) => AggregatorRegistry.aggregate(parts as Parameters<typeof AggregatorRegistry.aggregate>[0]).metrics())
        .then(
          (text) => requestedBy.isConnected() && requestedBy.send({ cimmeria: 'metrics-result', id, text }),
          (error: unknown) => requestedBy.isConnected() && requestedBy.send({ cimmeria: 'metrics-result', id, error: String(error) }),
        );
    };
    const timer = setTimeout(finish, PART_DEADLINE_MS);
    for (const worker of targets) {
      const listener = (message: unknown) => {
        if (!isWorkerMessage(message) || message.cimmeria !== 'metrics-part' || message.id !== gatherId) return;
        parts.push(message.metrics);
        if (++answered === targets.length) finish();
      };
      listeners.set(worker, listener);
      worker.on('message', listener);
      worker.send({ cimmeria: 'metrics-collect', id: gatherId });
    }
    if (targets.length === 0) finish();
  };
}
