import { isPrimaryMessage, type WorkerMessage } from './messages.js';

/** A prom-client registry, as far as gathering needs it. */
export interface JsonMetricsSource {
  getMetricsAsJSON(): Promise<unknown[]>;
}

/** How long a scrape waits for the primary to gather every worker's metrics. */
const SCRAPE_DEADLINE_MS = 10_000;

/**
 * In a worker of `--workers N`: answers the primary's requests for this
 * worker's metrics, and returns what a scrape of this worker answers: every
 * worker's metrics summed by the primary (prom-client's AggregatorRegistry),
 * so a scrape shows the server, not whichever process took the connection.
 */
export function clusterMetricsText(local: JsonMetricsSource): () => Promise<string> {
  const send = (message: WorkerMessage) => process.send?.(message);
  const pending = new Map<number, { resolve: (text: string) => void; reject: (error: Error) => void; timer: NodeJS.Timeout }>();
  let nextId = 0;
  process.on('message', (message: unknown) => {
    if (!isPrimaryMessage(message)) return;
    if (message.cimmeria === 'metrics-collect') {
      local.getMetricsAsJSON().then(
        (metrics) => send({ cimmeria: 'metrics-part', id: message.id, metrics }),
        () => send({ cimmeria: 'metrics-part', id: message.id, metrics: [] }),
      );
    } else if (message.cimmeria === 'metrics-result') {
      const waiting = pending.get(message.id);
      if (!waiting) return;
      pending.delete(message.id);
      clearTimeout(waiting.timer);
      if (message.text === undefined) waiting.reject(new Error(`the primary could not gather metrics: ${message.error ?? 'unknown error'}`));
      else waiting.resolve(message.text);
    }
  });
  return () =>
    new Promise<string>((resolve, reject) => {
      const id = ++nextId;
      const timer = setTimeout(() => {
        pending.delete(id);
        reject(new Error(`the primary gathered no metrics within ${SCRAPE_DEADLINE_MS} ms`));
      }, SCRAPE_DEADLINE_MS);
      pending.set(id, { resolve, reject, timer });
      send({ cimmeria: 'metrics-request', id });
    });
}
