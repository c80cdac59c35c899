import { ReadinessCheckError } from '@cimmeria/core';
import type { Logger } from './logging.js';

/**
 * The Conan handler's `onError`: a failed readiness check at warn with its
 * details (the probe's answer shows none), without a stack; anything else
 * the handler could not answer at error, with its stack.
 */
export function logHandlerError(logger: Logger): (error: unknown, request: Request) => void {
  return (error, request) => {
    const path = new URL(request.url).pathname;
    if (error instanceof ReadinessCheckError) {
      logger.warn({ path, check: error.check, outcome: error.outcome }, error.message);
      return;
    }
    logger.error({ err: error, method: request.method, path }, 'request failed');
  };
}
