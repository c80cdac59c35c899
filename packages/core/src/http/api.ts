import { z } from 'zod';
import { parseTokenLifetime } from '../auth/api-tokens.js';
import type { Principal } from '../auth/principal.js';
import type { ApiTokenRecord } from '../metadata/metadata-store.js';
import type { ConanService } from '../service/conan-service.js';
import { ConanError } from '../service/errors.js';
import { requestBody } from './request-body.js';
import { empty, formatTime, json } from './responses.js';

/** Largest JSON body the API reads. */
const MAX_API_BODY_BYTES = 16 * 1024;

const API_PREFIX = '/api/v1/';

const createTokenBody = z.strictObject({
  name: z.string().min(1).max(255).optional(),
  scope: z.enum(['read', 'write', 'delete']).optional(),
  pattern: z.string().min(1).max(512).optional(),
  /** `90d`, `12h` or `never` (the default). */
  expires: z.string().max(16).optional(),
});

/** How the API shows a token: never its secret. */
export function apiTokenJson(record: ApiTokenRecord) {
  return {
    id: record.id,
    user: record.user,
    name: record.name,
    scope: record.scope,
    pattern: record.pattern ?? null,
    created: formatTime(record.createdAtMicros),
    expires: record.expiresAtMicros === undefined ? null : formatTime(record.expiresAtMicros),
    last_used: record.lastUsedAtMicros === undefined ? null : formatTime(record.lastUsedAtMicros),
  };
}

/** A small JSON request body, read up to `maxBytes` (a larger one is `PAYLOAD_TOO_LARGE`). */
export async function readJson(request: Request, maxBytes = MAX_API_BODY_BYTES): Promise<unknown> {
  const declared = Number(request.headers.get('content-length') ?? '0');
  if (declared > maxBytes) throw new ConanError('PAYLOAD_TOO_LARGE', `Body larger than ${maxBytes} bytes`);
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of requestBody(request.body)) {
    size += chunk.byteLength;
    if (size > maxBytes) throw new ConanError('PAYLOAD_TOO_LARGE', `Body larger than ${maxBytes} bytes`);
    chunks.push(chunk);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    throw new ConanError('BAD_REQUEST', 'Body is not JSON');
  }
}

/** True when `path` (below the base path) is one of the JSON API's. */
export function isApiPath(path: string): boolean {
  return path.startsWith(API_PREFIX);
}

/**
 * The JSON API for the logged-in user (the web UI's): `/api/v1/tokens`
 * lists (GET) and creates (POST) the caller's API tokens,
 * `/api/v1/tokens/{id}` revokes (DELETE) one of them.
 */
export async function handleApi(
  service: ConanService,
  request: Request,
  path: string,
  principal: () => Promise<Principal | undefined>,
  clientAddress?: string,
): Promise<Response> {
  const segments = path.slice(API_PREFIX.length).split('/');
  if (segments[0] !== 'tokens' || segments.length > 2 || (segments.length === 2 && segments[1] === '')) {
    throw new ConanError('NOT_FOUND', `Not found: ${request.method} ${path}`);
  }
  const id = segments[1];
  const allow = id === undefined ? 'GET, POST' : 'DELETE';
  if (!allow.split(', ').includes(request.method)) {
    throw new ConanError('METHOD_NOT_ALLOWED', `Method ${request.method} not allowed here; use ${allow}`, { allow });
  }
  const caller = await principal();
  if (!caller) throw new ConanError('UNAUTHORIZED', 'Login required');
  const actor = {
    user: caller.name,
    ...(caller.apiToken === undefined ? {} : { tokenId: caller.apiToken.id }),
    ...(clientAddress === undefined ? {} : { address: clientAddress }),
  };

  if (id !== undefined) {
    // Someone else's token is answered like a missing one: ids are not to be probed.
    if (!(await service.apiTokens.revoke(id, caller.name, actor))) throw new ConanError('NOT_FOUND', 'No such token');
    return empty(204);
  }
  if (request.method === 'GET') {
    return json({ tokens: (await service.apiTokens.list(caller.name)).map(apiTokenJson) });
  }
  // A token must not mint a broader one.
  if (caller.apiToken) throw new ConanError('FORBIDDEN', 'API tokens cannot create API tokens: log in with a password');
  const parsed = createTokenBody.safeParse(await readJson(request));
  if (!parsed.success) throw new ConanError('BAD_REQUEST', `Invalid body: ${z.prettifyError(parsed.error)}`);
  const { name, scope, pattern, expires } = parsed.data;
  const expiresInSeconds = parseTokenLifetime(expires ?? 'never');
  const created = await service.apiTokens.create(caller.name, {
    ...(name === undefined ? {} : { name }),
    ...(scope === undefined ? {} : { scope }),
    ...(pattern === undefined ? {} : { pattern }),
    ...(expiresInSeconds === undefined ? {} : { expiresInSeconds }),
    actor,
  });
  return json({ token: created.token, ...apiTokenJson(created.record) }, 201);
}
