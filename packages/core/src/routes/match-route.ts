import { ROUTES, type Method, type Operation, type RouteDefinition } from './conan-routes.js';

/** Result of matching a path: the route's operations by method and the captured parameters. */
export interface RouteMatch {
  methods: RouteDefinition['methods'];
  params: Record<string, string>;
}

interface CompiledRoute {
  segments: string[];
  /** Whether the last segment captures the rest of the path (`*path`). */
  rest: boolean;
  methods: RouteDefinition['methods'];
}

const compiled: CompiledRoute[] = ROUTES.map((route) => {
  const segments = route.path.split('/').slice(1);
  return { segments, rest: segments.at(-1)!.startsWith('*'), methods: route.methods };
});

/**
 * Matches already-decoded path segments (without the base path) against the
 * route table. Returns `undefined` for unknown paths.
 */
export function matchRoute(segments: readonly string[]): RouteMatch | undefined {
  for (const route of compiled) {
    // Routes of another length cannot match: skip them without looking (every request walks this table).
    if (route.rest ? segments.length < route.segments.length : segments.length !== route.segments.length) continue;
    const params: Record<string, string> = {};
    let matched = true;
    for (let i = 0; i < route.segments.length; i++) {
      const pattern = route.segments[i]!;
      if (pattern.startsWith('*')) {
        params[pattern.slice(1)] = segments.slice(i).join('/');
        return { methods: route.methods, params };
      }
      const segment = segments[i]!;
      if (pattern.startsWith(':')) params[pattern.slice(1)] = segment;
      else if (pattern !== segment) {
        matched = false;
        break;
      }
    }
    if (matched) return { methods: route.methods, params };
  }
  return undefined;
}

/** The operation for a method on a matched route, if the method is allowed there. */
export function operationFor(match: RouteMatch, method: string): Operation | undefined {
  // HTTP: every GET resource answers HEAD too.
  return match.methods[method as Method] ?? (method === 'HEAD' ? match.methods.GET : undefined);
}

/** Methods allowed on a matched route, for the `Allow` header of a 405. */
export function allowedMethods(match: RouteMatch): string[] {
  const methods = Object.keys(match.methods);
  return match.methods.GET && !match.methods.HEAD ? [...methods, 'HEAD'] : methods;
}
