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

type Check = 'ok' | string;

const jsonResponse = (status: number, body: unknown) =>
  new Response(JSON.stringify(body), {
    status,
    // Probes must see the current state, never a cached one.
    headers: { 'content-type': 'application/json', 'cache-control': 'no-store' },
  });

async function check(probe: () => Promise<void>, timeoutMs: number): Promise<Check> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<string>((resolve) => {
    timer = setTimeout(() => resolve(`no answer within ${timeoutMs} ms`), timeoutMs);
  });
  try {
    return await Promise.race([probe().then(() => 'ok' as const), timeout]);
  } catch (error) {
    return (error as Error).message || String(error);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * The health endpoints: answers `GET`/`HEAD` on the liveness and readiness
 * paths (relative to `basePath`) and returns `undefined` for every other
 * request, so it can sit in front of any handler.
 */
export function createHealthHandler(
  service: Pick<ConanService, 'metadata' | 'blobs'>,
  options: HealthOptions = {},
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
    const [metadata, blobStore] = await Promise.all([
      check(() => service.metadata.ping(), timeoutMs),
      blobs.ping ? check(() => blobs.ping!(), timeoutMs) : Promise.resolve<Check>('ok'),
    ]);
    const ready = metadata === 'ok' && blobStore === 'ok';
    return jsonResponse(ready ? 200 : 503, { status: ready ? 'ready' : 'unavailable', checks: { metadata, blobs: blobStore } });
  };
}
