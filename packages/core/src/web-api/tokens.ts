import { z } from 'zod';
import { parseTokenLifetime } from '../auth/api-tokens.js';
import type { Principal } from '../auth/principal.js';
import type { ApiTokenRecord, AuditActor } from '../metadata/metadata-store.js';
import type { ConanService } from '../service/conan-service.js';
import { ConanError } from '../service/errors.js';
import { empty, formatTime, json } from '../http/responses.js';
import { readJson } from '../http/json-body.js';

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

/** `GET /api/v1/tokens`: the caller's tokens. */
export async function listTokens(service: ConanService, caller: Principal): Promise<Response> {
  return json({ tokens: (await service.apiTokens.list(caller.name)).map(apiTokenJson) });
}

/** `DELETE /api/v1/tokens/{id}`: someone else's token is answered like a missing one (ids are not to be probed). */
export async function revokeToken(service: ConanService, caller: Principal, id: string, actor: AuditActor): Promise<Response> {
  if (!(await service.apiTokens.revoke(id, caller.name, actor))) throw new ConanError('NOT_FOUND', 'No such token');
  return empty(204);
}

/** `POST /api/v1/tokens`: the secret is in this answer only. */
export async function createToken(service: ConanService, caller: Principal, request: Request, actor: AuditActor): Promise<Response> {
  // A token must not mint a broader one.
  if (caller.apiToken) throw new ConanError('FORBIDDEN', 'API tokens cannot create API tokens: log in with a password');
  const { name, scope, pattern, expires } = await readJson(request, createTokenBody);
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
