import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CONFORMANCE_USERS, readRecording, type RecordedExchange } from '@cimmeria/core/testing';
import { RECORDING } from './support/conformance-registry.js';
import { FuzzServer } from './support/fuzz-server.js';
import { basicAuth, login } from './support/login.js';
import { RawRequestTimeout, sendRaw, type RawRequest, type RawResponse } from './support/raw-http.js';

// Issue 8, "Beyond the list": mutated valid requests, sent byte for byte over a
// socket, never get a 5xx other than 503, never hang, and never stop the server
// from answering ping. Replay a failure with the seed and path fast-check prints:
//   CIMMERIA_FUZZ_SEED=<seed> CIMMERIA_FUZZ_PATH=<path> pnpm exec vitest run test/fuzz.test.ts
// CIMMERIA_FUZZ_RUNS=<n> runs longer (or shorter).

const SEED = Number(process.env.CIMMERIA_FUZZ_SEED ?? 20250808);
const PATH = process.env.CIMMERIA_FUZZ_PATH || undefined;
const RUNS = Number(process.env.CIMMERIA_FUZZ_RUNS ?? 500);
/** Generous for a loaded 2-core machine: a request that takes longer is a hang. */
const REQUEST_TIMEOUT_MS = 10_000;
/** Small, so oversized bodies (413) are cheap to send. */
const MAX_UPLOAD = 128 * 1024;
/**
 * Search patterns with more stars than this, or with a reversed range, froze
 * the server or answered 500 before item 1 of issue 8 (linear-time fnmatch):
 * one test runs those specifically.
 */
const MANY_STARS = 3;

// --- the valid requests mutations start from ---------------------------------

type Auth = 'none' | 'demo' | 'admin' | 'other' | 'basic-demo' | 'basic-wrong';

interface Template {
  method: string;
  path: string;
  headers: Array<[string, string]>;
  body: Uint8Array;
  auth: Auth;
}

const EMPTY = new Uint8Array(0);
const sha1 = (data: Uint8Array | string) => createHash('sha1').update(data).digest('hex');
const exchanges = readRecording(RECORDING);

function authOf(exchange: RecordedExchange): Auth {
  if (exchange.auth === null) return 'none';
  if ('basic' in exchange.auth) return exchange.auth.basic.password === CONFORMANCE_USERS[exchange.auth.basic.user] ? 'basic-demo' : 'basic-wrong';
  return exchange.auth.bearer as Auth;
}

function bodyOf(exchange: RecordedExchange): Uint8Array {
  const body = exchange.request.body;
  return body?.base64 ? new Uint8Array(Buffer.from(body.base64, 'base64')) : EMPTY;
}

function templateOf(exchange: RecordedExchange): Template {
  return {
    method: exchange.request.method,
    path: exchange.request.path,
    headers: Object.entries(exchange.request.headers).filter(([name]) => name !== 'content-length'),
    body: bodyOf(exchange),
    auth: authOf(exchange),
  };
}

/** Uploads of the recording, replayed to give the server recipes, packages and metadata files. */
const SEED_UPLOADS = exchanges.filter((e) => e.request.method === 'PUT' && e.response.status === 200).map(templateOf);

const HELLO = '/v2/conans/hello/1.0/_/_';
const RREV = `${HELLO}/revisions/ea6721719a8f3c720bfa641ca1345461`;
const PREV = `${RREV}/packages/9b430c7767068028f519c382e9362804069cf5d9/revisions/e2c92cfc6dc596b93a9ad6e5cd8b881c`;
const conanfile = SEED_UPLOADS.find((t) => t.path === `${RREV}/files/conanfile.py`)!;

const TEMPLATES: Template[] = [
  ...new Map(exchanges.map((e) => [`${e.request.method} ${e.request.path} ${authOf(e)}`, templateOf(e)])).values(),
  { method: 'GET', path: '/v2/ping', headers: [], body: EMPTY, auth: 'none' },
  { method: 'GET', path: '/healthz', headers: [], body: EMPTY, auth: 'none' },
  { method: 'GET', path: '/readyz', headers: [], body: EMPTY, auth: 'none' },
  { method: 'HEAD', path: `${RREV}/files/conanfile.py`, headers: [], body: EMPTY, auth: 'demo' },
  { method: 'GET', path: `${PREV}/files/conan_package.tgz`, headers: [['Range', 'bytes=0-9']], body: EMPTY, auth: 'none' },
  { method: 'GET', path: `${RREV}/files/conanfile.py`, headers: [['If-None-Match', `"${sha1(conanfile.body)}"`]], body: EMPTY, auth: 'other' },
  { method: 'GET', path: '/v2/conans/search?q=hel*&ignorecase=false', headers: [], body: EMPTY, auth: 'none' },
  { method: 'GET', path: `${HELLO}/search`, headers: [], body: EMPTY, auth: 'demo' },
  {
    method: 'PUT',
    path: `${RREV}/files/conanfile.py`,
    headers: [['X-Checksum-Deploy', 'true'], ['X-Checksum-Sha1', sha1(conanfile.body)]],
    body: EMPTY,
    auth: 'demo',
  },
  { method: 'PUT', path: `${RREV}/files/metadata/fuzz.log`, headers: [], body: new TextEncoder().encode('fuzz\n'), auth: 'admin' },
  { method: 'DELETE', path: HELLO, headers: [], body: EMPTY, auth: 'admin' },
  { method: 'DELETE', path: `${RREV}/packages`, headers: [], body: EMPTY, auth: 'admin' },
  { method: 'DELETE', path: `${RREV}/packages/9b430c7767068028f519c382e9362804069cf5d9`, headers: [], body: EMPTY, auth: 'demo' },
];

// --- mutations ------------------------------------------------------------------

type Body = { kind: 'bytes'; bytes: Uint8Array } | { kind: 'zeros'; length: number };

type Mutation =
  | { op: 'segment'; at: number; value: string }
  | { op: 'insert'; at: number; value: string }
  | { op: 'drop'; at: number }
  | { op: 'prefix'; value: string }
  | { op: 'suffix'; value: string }
  | { op: 'query'; value: string }
  | { op: 'method'; value: string }
  | { op: 'auth'; value: Auth }
  | { op: 'header'; name: string; value: string }
  | { op: 'dropHeaders' }
  | { op: 'body'; value: Body }
  | { op: 'framing'; value: RawRequest['framing'] };

const percentEncodeBytes = (bytes: Uint8Array) => [...bytes].map((b) => `%${b.toString(16).padStart(2, '0')}`).join('');
/** A UTF-8 string as the raw bytes a client would put on the wire (the request head is written as latin1). */
const utf8Raw = (s: string) => Buffer.from(s, 'utf8').toString('latin1');
const base64 = (s: string | Uint8Array) => Buffer.from(s as string).toString('base64');

const HEX = [...'0123456789abcdefABCDEF'];
const hostileSegment: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom(
    '..', '.', '%2e%2e', '%2E', '.%2e', '%2e.', '%2F', 'a%2Fb', '%2f..%2f', '%5C', '%5c..', '%00', '%0a', '%0D%0A', '%7f',
    '%', '%zz', '%E0%A4%A', '%C0%AE%C0%AE', '%FF', '%F0%9F%92%A9', '%C3%BC', '%20', '+', '_', '-', '@', '~', '*', ';',
    '%3F', '%23', '#', 'v1', 'v2', 'conans', 'revisions', 'packages', 'files', 'latest', 'search', 'metadata',
    'conanmanifest.txt', 'conaninfo.txt', 'CON', 'nul', '.git', '$(id)', '{}', '[]', '0', 'f'.repeat(64), 'f'.repeat(65),
  ),
  fc.string({ unit: fc.constantFrom(...HEX), maxLength: 70 }),
  fc.string({ unit: 'grapheme', minLength: 1, maxLength: 12 }).map(encodeURIComponent),
  fc.string({ unit: 'grapheme', minLength: 1, maxLength: 6 }).map(utf8Raw),
  fc.uint8Array({ minLength: 1, maxLength: 12 }).map(percentEncodeBytes),
  fc.constantFrom(100, 101, 102, 300, 2000, 9000).map((n) => 'a'.repeat(n)),
);

/** Pieces of fnmatch patterns: wildcards, brackets, literals of the stored names. */
const PATTERN_ATOMS = [
  '*', '?', '[', ']', '!', '#', '-', '^', '\\', '/', '@', '.', '_', '%', 'h', 'hel', 'lo', 'zlib', '-ng', '1.0', 'secret',
  'acme', 'A', 'z', 'é', '[a-z]', '[!h]', '[]]', '[!]', '[h-h]', '(', ')', '|', '{2}', '$',
];
const starsIn = (pattern: string) => [...pattern].filter((c) => c === '*').length;

/**
 * Whether a bracket expression of `pattern` holds a range whose ends are in
 * the wrong order (`[z-a]`): the RegExp-based fnmatch before item 1 of issue
 * 8 turned those into an invalid RegExp and answered 500. Read the way it
 * read them: a `[` closes at the first `]` at least two characters on.
 */
function hasReversedRange(pattern: string): boolean {
  for (let i = pattern.indexOf('['); i !== -1; i = pattern.indexOf('[', i + 1)) {
    const close = pattern.indexOf(']', i + 2);
    if (close === -1) continue;
    const body = pattern.slice(i + 1, close).replace(/^!/, '');
    for (let j = 0; j + 2 < body.length; j++) if (body[j + 1] === '-' && body[j]! > body[j + 2]!) return true;
    i = close;
  }
  return false;
}

const anyPattern = fc.array(fc.constantFrom(...PATTERN_ATOMS), { maxLength: 16 }).map((atoms) => atoms.join(''));

/** Query strings around a pattern: encoded, raw (where `#` starts a fragment and `%` is malformed), repeated. */
function queryOf(pattern: fc.Arbitrary<string>): fc.Arbitrary<string> {
  return fc.oneof(
    pattern.map((p) => `q=${encodeURIComponent(p)}`),
    pattern.map((p) => `q=${utf8Raw(p).replace(/[\s]/g, '+')}`),
    fc.tuple(pattern, fc.constantFrom('true', 'false', 'True', '0', '1', 'maybe', '', '%00')).map(
      ([p, i]) => `q=${encodeURIComponent(p)}&ignorecase=${i}`,
    ),
    fc.tuple(pattern, pattern).map(([a, b]) => `q=${encodeURIComponent(a)}&q=${encodeURIComponent(b)}`),
    fc.constantFrom('', 'q', 'q=', '&&', '=', '==q', 'q=%', 'q=%zz', 'q=%00', 'q=%C0', `q=${'a'.repeat(513)}`, `q=${'%2A'.repeat(600)}`),
  );
}

const authorizationValue: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom(
    '', 'Basic', 'Basic ', 'Basic !!!', 'Basic ====', `Basic ${base64('demo')}`, `Basic ${base64(':')}`, `Basic ${base64(':demo')}`,
    `Basic ${base64('demo:')}`, `basic ${base64('demo:demo')}`, `Basic  ${base64('demo:demo')}  `, 'Bearer', 'Bearer ', 'Bearer x.y.z',
    'Bearer eyJhbGciOiJub25lIn0.eyJzdWIiOiJhZG1pbiJ9.', `Bearer ${'A'.repeat(8000)}`, 'Digest username="demo"', 'Negotiate',
    'Bearer a b c',
  ),
  fc.uint8Array({ maxLength: 48 }).map((bytes) => `Basic ${base64(bytes)}`),
  fc.tuple(fc.string({ unit: 'grapheme', maxLength: 12 }), fc.string({ unit: 'binary', maxLength: 12 })).map(
    ([user, password]) => `Basic ${base64(`${user}:${password}`)}`,
  ),
  // Raw bytes 0x80-0xff are legal in a header value (obs-text); control characters are not.
  fc.uint8Array({ minLength: 1, maxLength: 24 }).map((bytes) => `Basic ${Buffer.from(bytes.map((b) => (b < 0x20 ? b + 0x80 : b))).toString('latin1')}`),
);

const rangeValue: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom(
    'bytes=0-0', 'bytes=-1', 'bytes=5-2', 'bytes=0-', 'bytes=-0', 'bytes=', 'bytes=-', 'bytes=--1', 'bytes=1-2,3-4', 'items=0-1',
    'bytes=99999999999999999999-', 'bytes=0-99999999999999999999', 'bytes=-99999999999999999999', 'bytes=9007199254740993-',
    'bytes= 0-1', 'BYTES=0-1',
  ),
  fc.tuple(fc.option(fc.nat({ max: 100_000 })), fc.option(fc.nat({ max: 100_000 }))).map(([a, b]) => `bytes=${a ?? ''}-${b ?? ''}`),
);

const headerMutation: fc.Arbitrary<Mutation> = fc.oneof(
  authorizationValue.map((value) => ({ op: 'header', name: 'Authorization', value }) as const),
  rangeValue.map((value) => ({ op: 'header', name: 'Range', value }) as const),
  fc
    .oneof(
      fc.constantFrom('-1', '99999999999999999999', '1e3', ' 5', '0x10', '', '18446744073709551616', '9007199254740993', '+5', '5, 5'),
      fc.nat({ max: 1_000_000 }).map(String),
    )
    .map((value) => ({ op: 'header', name: 'Content-Length', value }) as const),
  fc.constantFrom('chunked', 'gzip', 'chunked, chunked', 'identity').map((value) => ({ op: 'header', name: 'Transfer-Encoding', value }) as const),
  fc
    .oneof(
      fc.constantFrom('', 'x', 'A'.repeat(40), 'g'.repeat(40), 'a'.repeat(41), ` ${'a'.repeat(40)} `, sha1('other'), '0'.repeat(40)),
      fc.string({ unit: fc.constantFrom(...HEX), maxLength: 44 }),
    )
    .map((value) => ({ op: 'header', name: 'X-Checksum-Sha1', value }) as const),
  fc.constantFrom('true', 'TRUE', 'false', 'yes', '', '1').map((value) => ({ op: 'header', name: 'X-Checksum-Deploy', value }) as const),
  fc.constantFrom('', 'zz', 'a'.repeat(64)).map((value) => ({ op: 'header', name: 'X-Checksum-Sha256', value }) as const),
  fc.constantFrom('*', '"x"', 'W/"x"', '', '"').map((value) => ({ op: 'header', name: 'If-None-Match', value }) as const),
  fc.constantFrom('100-continue', 'nonsense').map((value) => ({ op: 'header', name: 'Expect', value }) as const),
  fc.constantFrom('', 'evil.example', '[::1]', 'localhost:99999', 'x/y', 'a@b', '%', 'h:1:2', 'a'.repeat(300)).map(
    (value) => ({ op: 'header', name: 'Host', value }) as const,
  ),
  fc.constantFrom('Conan-PkgId-Settings', 'Conan-PkgId-Options', 'X-Odd', 'Content-Type').chain((name) =>
    fc
      .oneof(fc.string({ maxLength: 40 }), fc.uint8Array({ maxLength: 40 }).map((b) => Buffer.from(b.map((x) => (x < 0x20 ? 0x21 : x))).toString('latin1')))
      .map((value) => ({ op: 'header', name, value }) as const),
  ),
  fc.constant({ op: 'header', name: 'X-Big', value: 'b'.repeat(20_000) } as const),
);

const bodyValue: fc.Arbitrary<Body> = fc.oneof(
  fc.uint8Array({ maxLength: 4096 }).map((bytes) => ({ kind: 'bytes', bytes }) as const),
  fc.constantFrom(MAX_UPLOAD - 1, MAX_UPLOAD, MAX_UPLOAD + 1, 3 * MAX_UPLOAD).map((length) => ({ kind: 'zeros', length }) as const),
);

function mutationOf(pattern: fc.Arbitrary<string>): fc.Arbitrary<Mutation> {
  return fc.oneof(
    { weight: 4, arbitrary: fc.record({ op: fc.constant('segment'), at: fc.nat(), value: hostileSegment }) },
    { weight: 1, arbitrary: fc.record({ op: fc.constant('insert'), at: fc.nat(), value: hostileSegment }) },
    { weight: 1, arbitrary: fc.record({ op: fc.constant('drop'), at: fc.nat() }) },
    { weight: 1, arbitrary: fc.record({ op: fc.constant('prefix'), value: fc.constantFrom('/x', '//', '/v2', '/%2e%2e', '/./', '/v1/../v2') }) },
    { weight: 1, arbitrary: fc.record({ op: fc.constant('suffix'), value: fc.constantFrom('/', '//', '/.', '/..', '?', '#x', '%', ';x') }) },
    { weight: 3, arbitrary: fc.record({ op: fc.constant('query'), value: queryOf(pattern) }) },
    {
      weight: 2,
      arbitrary: fc.record({
        op: fc.constant('method'),
        value: fc.constantFrom('GET', 'HEAD', 'PUT', 'DELETE', 'POST', 'PATCH', 'OPTIONS', 'TRACE', 'PROPFIND', 'FOO', 'get'),
      }),
    },
    {
      weight: 2,
      arbitrary: fc.record({
        op: fc.constant('auth'),
        value: fc.constantFrom<Auth>('none', 'demo', 'admin', 'other', 'basic-demo', 'basic-wrong'),
      }),
    },
    { weight: 5, arbitrary: headerMutation },
    { weight: 1, arbitrary: fc.constant({ op: 'dropHeaders' } as const) },
    { weight: 2, arbitrary: fc.record({ op: fc.constant('body'), value: bodyValue }) },
    { weight: 1, arbitrary: fc.record({ op: fc.constant('framing'), value: fc.constantFrom('short', 'long', 'chunked', 'none') as fc.Arbitrary<RawRequest['framing']> }) },
  ) as fc.Arbitrary<Mutation>;
}

interface Case {
  template: number;
  mutations: Mutation[];
}

const caseOf = (pattern: fc.Arbitrary<string>): fc.Arbitrary<Case> =>
  fc.record({ template: fc.nat({ max: TEMPLATES.length - 1 }), mutations: fc.array(mutationOf(pattern), { maxLength: 4 }) });

/** A batch of requests sent together, then a ping. */
const batchOf = (pattern: fc.Arbitrary<string>) => fc.array(caseOf(pattern), { minLength: 1, maxLength: 5 });

// --- the server ----------------------------------------------------------------

let server: FuzzServer;
const tokens = new Map<string, string>();

/** A fresh server with the recording's uploads, and tokens for its users. */
async function start(): Promise<void> {
  server = await FuzzServer.start({ maxUploadBytes: MAX_UPLOAD });
  for (const user of ['demo', 'admin', 'other']) tokens.set(user, await login(server.url, user, CONFORMANCE_USERS[user]!));
  await seed();
}

/**
 * After a failure: a new server, so the next run (and each shrinking step of
 * fast-check) starts from a known state, and a frozen one stops burning CPU.
 */
async function restart(): Promise<void> {
  await server.kill();
  await start();
}

function authorizationFor(auth: Auth): string | undefined {
  switch (auth) {
    case 'none':
      return undefined;
    case 'basic-demo':
      return basicAuth('demo', 'demo');
    case 'basic-wrong':
      return basicAuth('demo', 'not-the-password');
    default:
      return `Bearer ${tokens.get(auth)!}`;
  }
}

/** Turns a template and its mutations into the bytes to send. */
function build(c: Case): RawRequest {
  return buildFrom(TEMPLATES[c.template]!, c.mutations);
}

function buildFrom(template: Template, mutations: Mutation[]): RawRequest {
  const queryAt = template.path.indexOf('?');
  let segments = (queryAt === -1 ? template.path : template.path.slice(0, queryAt)).split('/').slice(1);
  let query = queryAt === -1 ? undefined : template.path.slice(queryAt + 1);
  let prefix = '';
  let suffix = '';
  let method = template.method;
  let auth = template.auth;
  let headers = [...template.headers];
  let body: Body = { kind: 'bytes', bytes: template.body };
  let framing: RawRequest['framing'] = 'exact';
  for (const m of mutations) {
    switch (m.op) {
      case 'segment':
        if (segments.length > 0) segments[m.at % segments.length] = m.value;
        break;
      case 'insert':
        segments.splice(m.at % (segments.length + 1), 0, m.value);
        break;
      case 'drop':
        if (segments.length > 0) segments.splice(m.at % segments.length, 1);
        break;
      case 'prefix':
        prefix = m.value;
        break;
      case 'suffix':
        suffix = m.value;
        break;
      case 'query':
        query = m.value;
        break;
      case 'method':
        method = m.value;
        break;
      case 'auth':
        auth = m.value;
        break;
      case 'header':
        headers = [...headers.filter(([name]) => name.toLowerCase() !== m.name.toLowerCase()), [m.name, m.value]];
        if (m.name === 'Authorization') auth = 'none';
        break;
      case 'dropHeaders':
        headers = [];
        break;
      case 'body':
        body = m.value;
        break;
      case 'framing':
        framing = m.value;
        break;
    }
  }
  const authorization = authorizationFor(auth);
  if (authorization) headers = [['Authorization', authorization], ...headers];
  const path = `${prefix}/${segments.join('/')}${suffix}`;
  return {
    method,
    target: query === undefined ? path : `${path}?${query}`,
    headers,
    body: body.kind === 'bytes' ? body.bytes : new Uint8Array(body.length),
    framing,
  };
}

/** The request as a reader needs it to reproduce a failure. */
function describeRequest(r: RawRequest): string {
  const headers = r.headers.map(([n, v]) => `  ${n}: ${JSON.stringify(v.length > 200 ? `${v.slice(0, 200)}...(${v.length})` : v)}`);
  return [`${r.method} ${JSON.stringify(r.target)}`, ...headers, `  body: ${r.body.length} bytes, framing: ${r.framing}`].join('\n');
}

/**
 * What the server may answer: anything but a 5xx (503, "retry later", is
 * allowed), and an answer at all, except where the client broke the framing
 * or sent a body: a server that refuses a request before reading its body
 * (node's parser on an unknown method or an oversized head, a 4xx of the
 * handler) may close the connection, and TCP then drops the answer with the
 * unread bytes. A crash still shows (the ping after the batch) and so does a
 * hang (the timeout).
 */
function check(request: RawRequest, response: RawResponse): void {
  const { status } = response;
  const mayCloseUnanswered =
    request.body.length > 0 ||
    !['exact', 'chunked'].includes(request.framing) ||
    request.headers.some(([n]) => /^(content-length|transfer-encoding)$/i.test(n));
  if (status === undefined && mayCloseUnanswered) return;
  if (status === undefined || (status >= 500 && status !== 503)) {
    const cause = server.crashed ? `\nthe server crashed: ${server.crashed}` : server.errors.length ? `\nlast server error: ${server.errors.at(-1)}` : '';
    throw new Error(`got ${status ?? 'no answer'} for\n${describeRequest(request)}\nanswer: ${JSON.stringify(response.head)}${cause}`);
  }
}

async function send(request: RawRequest): Promise<RawResponse> {
  try {
    return await sendRaw(server.port, request, REQUEST_TIMEOUT_MS);
  } catch (error) {
    if (error instanceof RawRequestTimeout) throw new Error(`${error.message} (a hang) for\n${describeRequest(request)}`);
    throw error;
  }
}

async function ping(after: string): Promise<void> {
  const response = await fetch(`${server.url}/v1/ping`, { signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) }).catch((error: unknown) => {
    throw new Error(`ping failed after ${after}: ${String(error)}`);
  });
  if (response.status !== 200) throw new Error(`ping answered ${response.status} after ${after}`);
}

/** (Re-)uploads the recording's recipes and packages: mutated deletes remove them. */
async function seed(): Promise<void> {
  for (const upload of SEED_UPLOADS) {
    const request = buildFrom(upload, []);
    check(request, await send(request));
  }
}

/** Sends a batch together and checks every answer, then that the server still answers ping. */
async function runBatch(batch: Case[]): Promise<void> {
  await runRequests(batch.map(build));
}

/** Sends requests together and checks every answer, then that the server still answers ping; restarts it after a failure. */
async function runRequests(requests: RawRequest[]): Promise<void> {
  server.errors.length = 0;
  try {
    const responses = await Promise.all(requests.map(send));
    requests.forEach((request, i) => check(request, responses[i]!));
    await ping(`the batch:\n${requests.map(describeRequest).join('\n')}`);
    if (requests.some((r, i) => r.method === 'DELETE' && responses[i]!.status === 200)) await seed();
  } catch (error) {
    await restart();
    throw error;
  }
}

beforeAll(start);

afterAll(async () => {
  await server?.stop();
});

describe(`issue 8 beyond the list: fuzzing mutated valid requests (seed ${SEED})`, () => {
  it('every seed template is a valid request the server answers below 400 or with a 401/403/404', async () => {
    // Guards the fuzz itself: mutations start from requests the server understands.
    for (let template = 0; template < TEMPLATES.length; template++) {
      const request = build({ template, mutations: [] });
      const { status } = await send(request);
      expect(status, describeRequest(request)).toBeDefined();
      expect([401, 403, 404].includes(status!) || status! < 400, `${status} for ${describeRequest(request)}`).toBe(true);
    }
    await seed();
  });

  it('answers mutated requests with no 5xx but 503, without hanging, and keeps answering ping', async () => {
    await fc.assert(
      fc.asyncProperty(batchOf(anyPattern), runBatch),
      // The time limit only caps a very slow machine (fewer runs, still a pass) and long shrinking of hangs.
      { seed: SEED, path: PATH, numRuns: RUNS, interruptAfterTimeLimit: 60_000 },
    );
  }, 180_000);

  // Before item 1 the first request below never answered and `/v1/ping` hung
  // behind it; `[z-a]*` answered 500.
  it('item 1: hostile search patterns (many stars, `#`, reversed ranges) answer in time, without a 5xx', async () => {
    for (const target of [`/v2/conans/search?q=${'*'.repeat(20)}%23`, '/v2/conans/search?q=%5Bz-a%5D*', `/v2/conans/search?q=${'*a'.repeat(40)}`]) {
      await runRequests([{ method: 'GET', target, headers: [], body: EMPTY, framing: 'exact' }]);
    }
    await fc.assert(
      fc.asyncProperty(fc.array(queryOf(anyPattern.filter((p) => starsIn(p) > MANY_STARS || hasReversedRange(p))), { minLength: 1, maxLength: 5 }), async (queries) => {
        await runBatch(queries.map((q) => ({ template: TEMPLATES.findIndex((t) => t.path.startsWith('/v2/conans/search')), mutations: [{ op: 'query', value: q }] })));
      }),
      { seed: SEED, path: PATH, numRuns: 40 },
    );
  }, 120_000);
});
