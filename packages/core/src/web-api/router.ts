import { z } from 'zod';
import type { Principal } from '../auth/principal.js';
import type { AuditActor } from '../metadata/metadata-store.js';
import { actorOf, type CallContext, type ConanService } from '../service/conan-service.js';
import { ConanError } from '../service/errors.js';
import { empty, json, withoutBody } from '../http/responses.js';
import { jsonErrorResponse } from './errors.js';
import { readJson } from '../http/json-body.js';
import { openApiDocument } from './openapi.js';
import { ReadAccess } from './read-access.js';
import { listRecipes, recipeDependents, recipeDetail, recipeOf, recipeRevisions, revisionDetail, revisionPackages } from './recipes.js';
import { checkCsrf, checkOrigin, requestOrigin, sessionCookie, setCookie } from './session.js';
import { stats } from './stats.js';
import { createToken, listTokens, revokeToken } from './tokens.js';

/** Where the web API lives below the mount path. */
export const WEB_API_PREFIX = '/api/v1/';

/** True when `path` (below the mount path) is the web API's. */
export function isWebApiPath(path: string): boolean {
  return path.startsWith(WEB_API_PREFIX);
}

/** What the handler knows of a web API request. */
export interface WebApiRequest {
  request: Request;
  url: URL;
  /** The path below the mount path, starting with {@link WEB_API_PREFIX}. */
  path: string;
  /** The public mount path (`''` at the root), which the session cookie is scoped to. */
  mountPath: string;
  clientAddress: string | undefined;
  /** Hops of trusted reverse proxies (`X-Forwarded-Proto` then tells https). */
  trustProxy: number;
  /** The caller of the `Authorization` header (Basic or Bearer), as the Conan API finds it. */
  principalOf(): Promise<Principal | undefined>;
}

interface Call {
  req: WebApiRequest;
  service: ConanService;
  segments: string[];
  principal: Principal | undefined;
  access: ReadAccess;
  actor: AuditActor;
}

type Run = (call: Call) => Promise<Response>;

const loginBody = z.strictObject({
  username: z.string().min(1).max(255),
  password: z.string().min(1).max(1024),
});

function requireCaller(call: Call): Principal {
  if (!call.principal) throw new ConanError('UNAUTHORIZED', 'Login required');
  return call.principal;
}

function secure(req: WebApiRequest): boolean {
  return req.url.protocol === 'https:' || requestOrigin(req.request, req.url, req.trustProxy).startsWith('https:');
}

async function login(call: Call): Promise<Response> {
  const { username, password } = await readJson(call.req.request, loginBody);
  const clientAddress = call.req.clientAddress;
  // Throttled, bounded and audited as `conan remote login` is.
  const token = await call.service.authenticate(username, password, clientAddress === undefined ? {} : { clientAddress });
  const principal = await call.service.verifyToken(token, clientAddress === undefined ? {} : { clientAddress });
  const response = json({ user: principal.name });
  response.headers.set(
    'set-cookie',
    setCookie(token, { mountPath: call.req.mountPath, maxAge: call.service.sessionSeconds, secure: secure(call.req) }),
  );
  return response;
}

function logout(call: Call): Response {
  const response = empty(204);
  response.headers.set('set-cookie', setCookie('', { mountPath: call.req.mountPath, maxAge: 0, secure: secure(call.req) }));
  return response;
}

/** Routes by the segments after `/api/v1/`: allowed methods and what answers. */
function route(segments: string[]): Record<string, Run> | undefined {
  const [first, ...rest] = segments;
  switch (first) {
    case 'session':
      return rest.length === 0 ? { POST: login, DELETE: async (call) => logout(call) } : undefined;
    case 'me':
      return rest.length === 0
        ? { GET: async ({ principal }) => json({ user: principal?.name ?? null, authenticated: principal !== undefined }) }
        : undefined;
    case 'openapi.json':
      return rest.length === 0 ? { GET: async () => json(openApiDocument()) } : undefined;
    case 'stats':
      return rest.length === 0 ? { GET: async ({ service, access }) => stats(service, access) } : undefined;
    case 'tokens':
      if (rest.length === 0) {
        return {
          GET: async (call) => listTokens(call.service, requireCaller(call)),
          POST: async (call) => createToken(call.service, requireCaller(call), call.req.request, call.actor),
        };
      }
      return rest.length === 1 && rest[0] !== ''
        ? { DELETE: async (call) => revokeToken(call.service, requireCaller(call), rest[0]!, call.actor) }
        : undefined;
    case 'recipes':
      return recipeRoute(rest);
    default:
      return undefined;
  }
}

function recipeRoute(rest: string[]): Record<string, Run> | undefined {
  if (rest.length === 0) return { GET: async ({ service, access, req }) => listRecipes(service, access, req.url) };
  if (rest.length === 1) return { GET: async ({ service, access }) => recipeDetail(service, access, rest[0]!) };
  if (rest.length === 2 && rest[1] === 'dependents') {
    return { GET: async ({ service, access, req }) => recipeDependents(service, access, rest[0]!, req.url) };
  }
  if (rest.length < 5 || rest[4] !== 'revisions') return undefined;
  const ref = () => recipeOf(rest);
  if (rest.length === 5) return { GET: async ({ service, access }) => recipeRevisions(service, access, ref()) };
  if (rest.length === 6) return { GET: async ({ service, access }) => revisionDetail(service, access, ref(), rest[5]!) };
  if (rest.length === 7 && rest[6] === 'packages') {
    return { GET: async ({ service, access }) => revisionPackages(service, access, ref(), rest[5]!) };
  }
  return undefined;
}

function decodeSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw new ConanError('BAD_REQUEST', 'Malformed percent-encoding in the path');
  }
}

const STATE_CHANGING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/**
 * The JSON web API under `/api/v1/` (see the README's "Web API" and
 * `/api/v1/openapi.json`): same service, same read permissions as the
 * Conan API. Callers authenticate with Basic, Bearer, or the UI's session
 * cookie; the cookie counts only here, and a state-changing request it
 * authenticates must prove it comes from the UI (CSRF).
 */
export async function handleWebApi(
  service: ConanService,
  req: WebApiRequest,
  onError?: (error: unknown) => void,
): Promise<Response> {
  try {
    const segments = req.path.slice(WEB_API_PREFIX.length).split('/').map(decodeSegment);
    const methods = route(segments);
    if (!methods) throw new ConanError('NOT_FOUND', 'Not found');
    const method = req.request.method === 'HEAD' && methods.GET ? 'GET' : req.request.method;
    const run = methods[method];
    if (!run) {
      const allow = Object.keys(methods).join(', ');
      throw new ConanError('METHOD_NOT_ALLOWED', `Method ${req.request.method} not allowed here; use ${allow}`, { allow });
    }
    const stateChanging = STATE_CHANGING.has(method);
    const context: CallContext = req.clientAddress === undefined ? {} : { clientAddress: req.clientAddress };
    let principal: Principal | undefined;
    if (req.request.headers.has('authorization')) {
      principal = await req.principalOf();
    } else if (!(segments[0] === 'session' && method === 'POST')) {
      // (Logging in ignores a session the browser may still hold.)
      const cookie = sessionCookie(req.request.headers);
      if (cookie !== undefined) {
        if (stateChanging) checkCsrf(req.request, req.url, req.trustProxy);
        try {
          principal = await service.verifyToken(cookie, context);
        } catch (error) {
          // An expired or revoked session is no session: the UI asks who is logged in and offers a login.
          if (!(error instanceof ConanError && error.code === 'UNAUTHORIZED')) throw error;
        }
      }
    }
    // Logging in is state-changing too: no page of another site may log a browser in.
    if (segments[0] === 'session') checkOrigin(req.request, req.url, req.trustProxy);
    const actor = actorOf(principal, context);
    const response = await run({ req, service, segments, principal, access: new ReadAccess(service, principal), actor });
    // Answers depend on who asks.
    response.headers.set('cache-control', 'no-store');
    return req.request.method === 'HEAD' ? withoutBody(response) : response;
  } catch (error) {
    return jsonErrorResponse(error, onError);
  }
}
