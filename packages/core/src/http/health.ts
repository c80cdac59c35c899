import { withinDeadline } from '../deadline.js';
import type { ConanService } from '../service/conan-service.js';

/** Options of the health endpoints ({@link ConanHandlerOptions.health}). */
export interface HealthOptions {
  /** Liveness: 200 while the process can answer. Default `/healthz`, under the handler's base path. */
  healthPath?: string;
  /** Readiness: 200 when both stores answer and the node is not draining. Default `/readyz`. */
  readyPath?: string;
  /** True once the node is shutting down: readiness turns 503 so load balancers stop sending work. */
  draining?: () => boolean;
  /** How long each store may take to answer a readiness check, in ms. Default 2000. */
  checkTimeoutMs?: number;
}

/** What a readiness probe shows of one store: never its error text, which may name internal hosts. */
export type ReadinessOutcome = 'ok' | 'unavailable' | 'timeout';

/** The stores a readiness probe checks. */
export type ReadinessCheckName = 'metadata' | 'blobs';

/**
 * A store failed a readiness check. The probe answers only `unavailable` or
 * `timeout`; this error, with the backend's own error as `cause`, goes to
 * the handler's `onError` so the operator's log has the details.
 */
export class ReadinessCheckError extends Error {
  constructor(
    readonly check: ReadinessCheckName,
    readonly outcome: Exclude<ReadinessOutcome, 'ok'>,
    detail: string,
    options?: { cause?: unknown },
  ) {
    super(`Readiness check of the ${check} store: ${detail}`, options);
    this.name = 'ReadinessCheckError';
  }
}

const jsonResponse = (status: number, body: unknown) =>
  new Response(JSON.stringify(body), {
    status,
    // Probes must see the current state, never a cached one.
    headers: { 'content-type': 'application/json', 'cache-control': 'no-store' },
  });

async function check(
  name: ReadinessCheckName,
  probe: () => Promise<void>,
  timeoutMs: number,
  report: (error: ReadinessCheckError) => void,
): Promise<ReadinessOutcome> {
  try {
    if ((await withinDeadline(timeoutMs, probe)) !== 'timeout') return 'ok';
    report(new ReadinessCheckError(name, 'timeout', `no answer within ${timeoutMs} ms`));
    return 'timeout';
  } catch (error) {
    report(new ReadinessCheckError(name, 'unavailable', (error as Error)?.message || String(error), { cause: error }));
    return 'unavailable';
  }
}

/**
 * The health endpoints: answers `GET`/`HEAD` on the liveness and readiness
 * paths (relative to `basePath`) and returns `undefined` for every other
 * request, so it can sit in front of any handler. A failed readiness check
 * shows only `unavailable` or `timeout`; its details go to `onError` as a
 * {@link ReadinessCheckError}.
 */
export function createHealthHandler(
  service: Pick<ConanService, 'metadata' | 'blobs'>,
  options: HealthOptions = {},
  onError?: (error: unknown, request: Request) => void,
): (request: Request, path: string) => Promise<Response | undefined> {
  const healthPath = options.healthPath ?? '/healthz';
  const readyPath = options.readyPath ?? '/readyz';
  const timeoutMs = options.checkTimeoutMs ?? 2000;
  return async (request, path) => {
    if (path !== healthPath && path !== readyPath) return undefined;
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      return new Response('Use GET or HEAD\n', { status: 405, headers: { allow: 'GET, HEAD' } });
    }
    if (path === healthPath) return jsonResponse(200, { status: 'alive' });
    if (options.draining?.()) return jsonResponse(503, { status: 'draining' });
    const blobs = service.blobs;
    const report = (error: ReadinessCheckError) => onError?.(error, request);
    const [metadata, blobStore] = await Promise.all([
      check('metadata', () => service.metadata.ping(), timeoutMs, report),
      blobs.ping ? check('blobs', () => blobs.ping!(), timeoutMs, report) : Promise.resolve<ReadinessOutcome>('ok'),
    ]);
    const ready = metadata === 'ok' && blobStore === 'ok';
    return jsonResponse(ready ? 200 : 503, { status: ready ? 'ready' : 'unavailable', checks: { metadata, blobs: blobStore } });
  };
}
