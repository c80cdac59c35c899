import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { createConanHandler, type HasService, type HealthOptions, type WebUi } from '@cimmeria/core';
import { toNodeListener } from '@cimmeria/core/node';

/** Options of {@link conanPlugin}, next to Fastify's own `prefix`. */
export interface ConanPluginOptions {
  registry: HasService;
  /** Called with unexpected errors (answered 500) and backend outages (503). */
  onError?: (error: unknown, request: Request) => void;
  /**
   * Also answer `/healthz` and `/readyz` (or the paths given) under the
   * plugin's prefix, for load balancer probes. Off by default.
   */
  health?: boolean | HealthOptions;
  /**
   * Serve the web UI under `ui/` of the plugin's mount path: pass
   * `createWebUi()` from `@cimmeria/web`. Off by default.
   */
  ui?: WebUi;
}

/**
 * The Conan 2 API as a Fastify plugin:
 * `app.register(conanPlugin, { registry, prefix: '/conan' })`.
 *
 * Not wrapped in fastify-plugin on purpose: inside its own encapsulated
 * scope it replaces the content-type parsers with one that leaves the raw
 * request stream unread, so uploads stream to storage, while the host's
 * parsers keep working everywhere else.
 *
 * Failed logins are throttled per client address, taken from
 * `request.ip`: behind a reverse proxy, set Fastify's `trustProxy` option
 * so that it is the client's address rather than the proxy's.
 */
export const conanPlugin: FastifyPluginAsync<ConanPluginOptions> = async (instance, options) => {
  // Fastify's request.ip follows its `trustProxy` option; the bridge only sees the raw request.
  const clientAddresses = new WeakMap<object, string>();
  const listener = toNodeListener(
    createConanHandler(options.registry, { basePath: instance.prefix, onError: options.onError, health: options.health, ui: options.ui }),
    { clientAddress: (raw) => clientAddresses.get(raw) ?? raw.socket?.remoteAddress },
  );
  instance.removeAllContentTypeParsers();
  instance.addContentTypeParser('*', (_request, _payload, done) => done(null));

  const handler = async (request: FastifyRequest, reply: FastifyReply) => {
    // The core writes the response itself through the Node bridge.
    reply.hijack();
    clientAddresses.set(request.raw, request.ip);
    await listener(request.raw, reply.raw);
  };
  // Every method the server accepts (TRACE, QUERY and any the host added with
  // addHttpMethod too) goes to the core, which answers 405 where the protocol has none.
  const method = instance.supportedMethods;
  for (const url of ['/', '/*']) {
    instance.route({ method, url, handler, exposeHeadRoute: false });
  }
};
