import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { PermissionRules } from '../auth/authorizer.js';

/** One recorded exchange of the real Conan 2 client with conan_server. */
export interface RecordedExchange {
  seq: number;
  scenario: string;
  auth: null | { bearer: string } | { basic: { user: string; password: string } };
  request: { method: string; path: string; headers: Record<string, string>; body?: RecordedBody };
  response: { status: number; headers: Record<string, string>; body?: RecordedBody };
}

interface RecordedBody {
  size: number;
  sha1: string;
  base64?: string;
}

/** Users of the recording's server.conf: name -> password. */
export const CONFORMANCE_USERS: Record<string, string> = { demo: 'demo', admin: 's3cret', other: 'other' };

/** Permissions of the recording's server.conf. */
export const CONFORMANCE_PERMISSIONS: PermissionRules = {
  read: [
    { pattern: 'secret/*@*/*', users: ['demo'] },
    { pattern: '*/*@*/*', users: ['*'] },
  ],
  write: [{ pattern: '*/*@*/*', users: ['demo', 'admin'] }],
};

/** A way to send requests to a server under test: over a socket, or straight into a fetch handler. */
export interface ConformanceTarget {
  /** Sends a request for `path` (which starts with `/v1` or `/v2`). */
  fetch(path: string, init: RequestInit): Promise<Response>;
  close(): Promise<void>;
}

/** Reads a `.jsonl` recording. */
export function readRecording(file: string): RecordedExchange[] {
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as RecordedExchange);
}

/** Replaces every `"time"` value so JSON bodies compare structurally. */
function withoutTimes(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutTimes);
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => [k, k === 'time' ? '<time>' : withoutTimes(v)]),
    );
  }
  return value;
}

const basic = (user: string, password: string) =>
  `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

/**
 * The `Authorization` a replayed exchange needs on this server: Basic as
 * recorded, or a Bearer token of the recorded user, got once by logging in at
 * `loginPath` (the Conan 2 or Conan 1 authenticate route) and reused.
 */
export function replayAuthorization(
  target: () => ConformanceTarget,
  loginPath: string,
): (auth: RecordedExchange['auth']) => Promise<string | undefined> {
  const tokens = new Map<string, string>();
  return async (auth) => {
    if (auth === null) return undefined;
    if ('basic' in auth) return basic(auth.basic.user, auth.basic.password);
    let token = tokens.get(auth.bearer);
    if (!token) {
      const password = CONFORMANCE_USERS[auth.bearer];
      if (password === undefined) throw new Error(`No password known for ${auth.bearer}`);
      const response = await target().fetch(loginPath, { headers: { authorization: basic(auth.bearer, password) } });
      expect(response.status, `login of ${auth.bearer}`).toBe(200);
      token = await response.text();
      tokens.set(auth.bearer, token);
    }
    return `Bearer ${token}`;
  };
}

/**
 * Replays a recording of the real Conan 2 client against a fresh server
 * configured with {@link CONFORMANCE_USERS} and {@link CONFORMANCE_PERMISSIONS},
 * checking each exchange as the recording's README says: exact status, JSON
 * bodies structurally (times ignored), downloads by sha1, and the
 * `revisions` capability on ping.
 */
export function conformanceContract(
  name: string,
  recordingFile: string,
  start: () => Promise<ConformanceTarget>,
): void {
  const exchanges = readRecording(recordingFile);

  describe(`Conan 2 conformance replay: ${name}`, () => {
    let target: ConformanceTarget;
    const authorization = replayAuthorization(() => target, '/v2/users/authenticate');

    it('starts the server', async () => {
      target = await start();
    });

    for (const exchange of exchanges) {
      const { request, response: expected } = exchange;
      it(`#${exchange.seq} ${exchange.scenario}: ${request.method} ${request.path} -> ${expected.status}`, async () => {
        const headers: Record<string, string> = {};
        for (const [key, value] of Object.entries(request.headers)) {
          if (key !== 'content-length') headers[key] = value;
        }
        const auth = await authorization(exchange.auth);
        if (auth) headers.authorization = auth;
        const body =
          request.body && request.body.size > 0 && request.body.base64 !== undefined
            ? Buffer.from(request.body.base64, 'base64')
            : undefined;
        const response = await target.fetch(request.path, { method: request.method, headers, body });
        const bytes = Buffer.from(await response.arrayBuffer());
        const shown = bytes.length < 300 ? ` body: ${bytes.toString('utf8')}` : '';
        expect(response.status, `status of #${exchange.seq}${shown}`).toBe(expected.status);

        if (request.path.endsWith('/ping')) {
          const capabilities = (response.headers.get('x-conan-server-capabilities') ?? '').split(',');
          expect(capabilities.map((c) => c.trim())).toContain('revisions');
        }
        const expectedBody = expected.body?.base64 !== undefined ? Buffer.from(expected.body.base64, 'base64') : undefined;
        if (expected.status >= 300 || !expectedBody) return;
        if ((expected.headers['content-type'] ?? '').startsWith('application/json')) {
          expect(response.headers.get('content-type')).toMatch(/^application\/json/);
          expect(withoutTimes(JSON.parse(bytes.toString('utf8')))).toEqual(
            withoutTimes(JSON.parse(expectedBody.toString('utf8'))),
          );
        } else if (request.path.includes('/files/')) {
          expect(createHash('sha1').update(bytes).digest('hex'), 'sha1 of the downloaded file').toBe(expected.body!.sha1);
        } else if (request.path.endsWith('/check_credentials')) {
          expect(bytes.toString('utf8')).toBe(expectedBody.toString('utf8'));
        }
      });
    }

    it('stops the server', async () => {
      await target?.close();
    });
  });
}
