import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { PermissionRules } from '../auth/authorizer.js';
import { readRecording, replayAuthorization, type ConformanceTarget, type RecordedExchange } from './conformance.js';

/** Permissions of the Conan 1 recordings' server.conf: unlike the Conan 2 one, admin reads `secret/*` too. */
export const CONAN1_CONFORMANCE_PERMISSIONS: PermissionRules = {
  read: [
    { pattern: 'secret/*@*/*', users: ['demo', 'admin'] },
    { pattern: '*/*@*/*', users: ['*'] },
  ],
  write: [{ pattern: '*/*@*/*', users: ['demo', 'admin'] }],
};

/** An exchange of the Conan 1 recordings: `auth` may also name the claims of a signed file URL. */
type Conan1Exchange = Omit<RecordedExchange, 'auth'> & {
  auth: RecordedExchange['auth'] | { signature: { resource_path: string; username: string | null; filesize: number | null } };
};

/** A target whose server hands out absolute URLs (Conan 1 file URLs) that the replay must fetch. */
export interface Conan1ConformanceTarget extends ConformanceTarget {
  /** Sends a request to an absolute URL the server returned. Default: the global `fetch`. */
  fetchUrl?(url: string, init: RequestInit): Promise<Response>;
}

function withoutTimes(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutTimes);
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, k === 'time' ? '<time>' : withoutTimes(v)]));
  }
  return value;
}

/** `{ref path}/0/export/` or `{ref path}/0/package/{id}/0/` of a `/v1/conans/...` route answering file URLs. */
const URL_ROUTE = /^\/v1\/conans\/([^/]+\/[^/]+\/[^/]+\/[^/]+)(?:\/packages\/([0-9a-f]+))?\/(upload_urls|download_urls|digest)$/;
const SNAPSHOT = /^\/v1\/conans\/([^/]+\/[^/]+\/[^/]+\/[^/]+)(?:\/packages\/([0-9a-f]+))?$/;
const PACKAGE_SEARCH = /^\/v[12]\/conans\/[^/]+\/[^/]+\/[^/]+\/[^/]+(\/revisions\/[^/]+)?\/search$/;

/**
 * Replays a recording of the real Conan 1.65 client with conan_server
 * (either mode) against a fresh server with the recording's users and
 * permissions, as the recordings' README says: exact statuses; JSON bodies
 * structurally (times ignored; for file URL answers only the file names;
 * for package search the ids and each `content`); downloads by sha1. A
 * request to a signed file URL goes to the URL this server returned for
 * that file. Bodies too large to be recorded are replayed as that many
 * deterministic bytes, and their downloads compared with those.
 */
export function conan1ConformanceContract(
  name: string,
  recordingFile: string,
  start: () => Promise<Conan1ConformanceTarget>,
): void {
  const exchanges = readRecording(recordingFile) as unknown as Conan1Exchange[];

  describe(`Conan 1 conformance replay: ${name}`, () => {
    let target: Conan1ConformanceTarget;
    /** Recorded resource path -> URL this server handed out for it. */
    const fileUrls = new Map<string, string>();
    /** Recorded resource path -> sha1 of the bytes replayed in place of an unrecorded body. */
    const replacedSha1 = new Map<string, string>();

    const authorization = replayAuthorization(() => target, '/v1/users/authenticate');

    /** Follows redirects as the client's `requests` does (no credentials were sent to file URLs anyway). */
    async function fetchFileUrl(url: string, init: RequestInit): Promise<Response> {
      const send = target.fetchUrl ?? ((u: string, i: RequestInit) => fetch(u, i));
      let response = await send(url, { ...init, redirect: 'manual' });
      for (let hops = 0; hops < 5 && [301, 302, 303, 307, 308].includes(response.status); hops++) {
        const location = new URL(response.headers.get('location')!, url).toString();
        await response.arrayBuffer();
        response = await fetch(location, { method: init.method, redirect: 'manual' });
      }
      return response;
    }

    it('starts the server', async () => {
      target = await start();
    });

    for (const exchange of exchanges) {
      const { request, response: expected } = exchange;
      const path = request.path.split('?')[0]!;
      it(`#${exchange.seq} ${exchange.scenario}: ${request.method} ${path.slice(0, 120)} -> ${expected.status}`, async () => {
        const headers: Record<string, string> = {};
        for (const [key, value] of Object.entries(request.headers)) {
          if (key !== 'content-length' && key !== 'authorization') headers[key] = value;
        }
        let body: Buffer | undefined;
        if (request.body && request.body.size > 0) {
          body = request.body.base64 !== undefined ? Buffer.from(request.body.base64, 'base64') : Buffer.alloc(request.body.size, 0x5a);
        }
        const auth = exchange.auth;
        let response: Response;
        let resource: string | undefined;
        if (auth !== null && 'signature' in auth) {
          resource = auth.signature.resource_path;
          const url = fileUrls.get(resource);
          expect(url, `a URL for ${resource} was handed out`).toBeDefined();
          if (body && request.body?.base64 === undefined) {
            replacedSha1.set(resource, createHash('sha1').update(body).digest('hex'));
            delete headers['x-checksum-sha1'];
          }
          response = await fetchFileUrl(url!, { method: request.method, headers, body: body && new Uint8Array(body) });
        } else {
          if (body && request.body?.base64 === undefined) {
            replacedSha1.set(path, createHash('sha1').update(body).digest('hex'));
            delete headers['x-checksum-sha1'];
          }
          const authHeader = await authorization(auth);
          if (authHeader) headers.authorization = authHeader;
          response = await target.fetch(request.path, { method: request.method, headers, body: body && new Uint8Array(body) });
        }
        const bytes = Buffer.from(await response.arrayBuffer());
        const shown = bytes.length < 300 ? ` body: ${bytes.toString('utf8')}` : '';
        expect(response.status, `status of #${exchange.seq}${shown}`).toBe(expected.status);
        if (path.endsWith('/ping')) {
          const capabilities = (response.headers.get('x-conan-server-capabilities') ?? '').split(',').map((c) => c.trim());
          expect(capabilities).toContain('revisions');
          expect(capabilities).not.toContain('only_v2');
        }
        if (expected.status >= 300) return;

        const urlRoute = URL_ROUTE.exec(path);
        if (urlRoute) {
          const answer = JSON.parse(bytes.toString('utf8')) as Record<string, string>;
          const [, ref, packageId] = urlRoute;
          for (const [file, url] of Object.entries(answer)) {
            fileUrls.set(packageId ? `${ref}/0/package/${packageId}/0/${file}` : `${ref}/0/export/${file}`, url);
          }
          if (expected.body?.base64 !== undefined) {
            const recorded = JSON.parse(Buffer.from(expected.body.base64, 'base64').toString('utf8')) as Record<string, string>;
            expect(Object.keys(answer).sort()).toEqual(Object.keys(recorded).sort());
          }
          return;
        }
        if (resource !== undefined) {
          if (request.method !== 'GET') return;
          const sha1 = replacedSha1.get(resource) ?? expected.body?.sha1;
          expect(createHash('sha1').update(bytes).digest('hex'), 'sha1 of the downloaded file').toBe(sha1);
          return;
        }
        const expectedBody = expected.body?.base64 !== undefined ? Buffer.from(expected.body.base64, 'base64') : undefined;
        if (!expectedBody) {
          if (request.method === 'GET' && path.includes('/files/') && expected.body) {
            const sha1 = replacedSha1.get(path) ?? expected.body.sha1;
            expect(createHash('sha1').update(bytes).digest('hex'), 'sha1 of the downloaded file').toBe(sha1);
          }
          return;
        }
        if ((expected.headers['content-type'] ?? '').startsWith('application/json')) {
          expect(response.headers.get('content-type')).toMatch(/^application\/json(; charset=utf-8)?$/);
          const actual = JSON.parse(bytes.toString('utf8')) as Record<string, unknown>;
          const recorded = JSON.parse(expectedBody.toString('utf8')) as Record<string, unknown>;
          if (PACKAGE_SEARCH.test(path)) {
            const contents = (o: Record<string, unknown>) =>
              Object.fromEntries(Object.entries(o).map(([id, v]) => [id, (v as { content: string }).content]));
            expect(contents(actual)).toEqual(contents(recorded));
          } else if (SNAPSHOT.test(path)) {
            // md5s of bytes the replay made up in place of unrecorded ones cannot match the recording's.
            const [, ref, packageId] = SNAPSHOT.exec(path)!;
            const masked = (o: Record<string, unknown>) =>
              Object.fromEntries(
                Object.entries(o).map(([file, md5]) => {
                  const rp = packageId ? `${ref}/0/package/${packageId}/0/${file}` : `${ref}/0/export/${file}`;
                  return [file, replacedSha1.has(rp) ? '<made up>' : md5];
                }),
              );
            expect(masked(actual)).toEqual(masked(recorded));
          } else if (path.endsWith('/conans/search')) {
            // conan_server lists a recipe once per revision (the client de-duplicates).
            const unique = (o: Record<string, unknown>) => [...new Set(o.results as string[])];
            expect(unique(actual)).toEqual(unique(recorded));
          } else {
            expect(withoutTimes(actual)).toEqual(withoutTimes(recorded));
          }
        } else if (request.path.includes('/files/') && request.method === 'GET') {
          const sha1 = replacedSha1.get(path) ?? expected.body!.sha1;
          expect(createHash('sha1').update(bytes).digest('hex'), 'sha1 of the downloaded file').toBe(sha1);
        } else if (path.endsWith('/check_credentials')) {
          expect(bytes.toString('utf8')).toBe(expectedBody.toString('utf8'));
        }
      });
    }

    it('stops the server', async () => {
      await target?.close();
    });
  });
}
