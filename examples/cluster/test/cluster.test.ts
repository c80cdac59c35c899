import { createHash, randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { request as httpRequest } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PG_URL, dropSchema, freshSchemaName } from '../../../packages/metadata-postgres/test/support.js';
import { startS3, type TestS3 } from '../../../packages/storage-s3/test/support/s3rver.js';
// @ts-expect-error: plain JavaScript example
import { startCluster } from '../src/cluster.mjs';

// The whole deployment on one machine: nginx, 2 nodes, PostgreSQL, S3. Client
// traffic runs for the whole test while every node is restarted in turn and
// one is killed; see the closing assertions for what "nobody noticed" means.

const sha1 = (bytes: Uint8Array | string) => createHash('sha1').update(bytes).digest('hex');
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const FILE_BYTES = 256 * 1024;

type Phase = 'steady' | 'rolling restart' | 'between' | 'kill' | 'after';

interface Attempt {
  /** The phase the request started in. */
  phase: Phase;
  /** The phase it ended in (a request in flight when a node dies started before). */
  endPhase: Phase;
  operation: string;
  ok: boolean;
  detail?: string;
}

interface Upload {
  recipe: string;
  revision: string;
  files: Record<string, Uint8Array<ArrayBuffer>>;
}

interface ClusterNode {
  index: number;
  url: string;
  stop(signal?: NodeJS.Signals): Promise<number | string>;
  start(): Promise<void>;
  restart(): Promise<number | string>;
}

interface Cluster {
  url: string;
  adminPassword: string;
  nodes: ClusterNode[];
  accessLog: string;
  dir: string;
  stop(): Promise<void>;
}

describe('a cluster behind nginx under rolling restarts and a kill', () => {
  let s3: TestS3;
  let schema: string;
  let cluster: Cluster;

  beforeAll(async () => {
    s3 = await startS3();
    const bucket = await s3.createBucket(s3.client());
    schema = freshSchemaName();
    cluster = await startCluster({
      nodes: 2,
      database: PG_URL,
      databaseSchema: schema,
      storage: `s3://${bucket}/cluster?endpoint=${encodeURIComponent(s3.endpoint)}&forcePathStyle=true&accessKeyId=S3RVER&secretAccessKey=S3RVER`,
      drainDelayMs: 1000,
      shutdownTimeoutMs: 20_000,
    });
  }, 120_000);

  afterAll(async () => {
    await cluster?.stop();
    await s3?.close();
    if (schema) await dropSchema(schema);
  });

  it('serves every request through restarts, loses no acknowledged upload, and lets S3 serve the bytes', async () => {
    const auth = `Basic ${Buffer.from(`admin:${cluster.adminPassword}`).toString('base64')}`;
    const login = await fetch(`${cluster.url}/v2/users/authenticate`, { headers: { authorization: auth } });
    expect(login.status).toBe(200);
    const bearer = { authorization: `Bearer ${await login.text()}` };

    let phase: Phase = 'steady';
    let running = true;
    const attempts: Attempt[] = [];
    const acknowledged: Upload[] = [];
    const bytes = { fromS3: 0, downloads: 0 };

    /** Runs `request` until it succeeds (at most 10 tries), recording every attempt with the phase it started in. */
    async function withRetries<T>(operation: string, request: () => Promise<T>): Promise<T> {
      for (let attempt = 1; ; attempt++) {
        const startedIn = phase;
        try {
          const result = await request();
          attempts.push({ phase: startedIn, endPhase: phase, operation, ok: true });
          return result;
        } catch (error) {
          attempts.push({ phase: startedIn, endPhase: phase, operation, ok: false, detail: String(error) });
          if (attempt === 10) throw error;
          await sleep(100);
        }
      }
    }

    const expectStatus = async (response: Response, status: number, what: string) => {
      if (response.status !== status) throw new Error(`${what}: ${response.status} ${await response.text()}`);
    };

    async function uploader(worker: number): Promise<void> {
      const recipe = `load${worker}/1.0`;
      for (let k = 0; running; k++) {
        const revision = sha1(`${worker}-${k}-${Math.random()}`).slice(0, 32);
        const conanfile = `# ${recipe} ${revision}\n`;
        const files = {
          'conan_export.tgz': new Uint8Array(randomBytes(FILE_BYTES)),
          'conanfile.py': new TextEncoder().encode(conanfile),
          // Lists the md5 of conanfile.py, as Conan's does: a manifest contradicting it is refused.
          'conanmanifest.txt': new TextEncoder().encode(
            `${Date.now()}\nconanfile.py: ${createHash('md5').update(conanfile).digest('hex')}\n`,
          ),
        };
        // As the conan client: sorted, so the manifest comes last and publishes.
        for (const [name, body] of Object.entries(files)) {
          await withRetries('upload', async () => {
            const response = await fetch(`${cluster.url}/v2/conans/${recipe}/_/_/revisions/${revision}/files/${name}`, {
              method: 'PUT',
              headers: { ...bearer, 'x-checksum-sha1': sha1(body) },
              body,
            });
            await expectStatus(response, 200, `PUT ${name}`);
            await response.arrayBuffer();
          });
        }
        acknowledged.push({ recipe, revision, files });
      }
    }

    /** Downloads a file as the conan client does: the node answers 302, the bytes come from S3. */
    async function download(upload: Upload, name: string): Promise<Uint8Array> {
      const response = await fetch(`${cluster.url}/v2/conans/${upload.recipe}/_/_/revisions/${upload.revision}/files/${name}`, {
        redirect: 'manual',
      });
      await expectStatus(response, 302, `GET ${name}`);
      await response.arrayBuffer();
      const fromS3 = await fetch(response.headers.get('location')!);
      await expectStatus(fromS3, 200, `S3 GET ${name}`);
      const body = new Uint8Array(await fromS3.arrayBuffer());
      bytes.fromS3 += body.length;
      bytes.downloads += 1;
      return body;
    }

    async function reader(): Promise<void> {
      while (running) {
        const upload = acknowledged[Math.floor(Math.random() * acknowledged.length)];
        if (!upload) {
          await sleep(20);
          continue;
        }
        await withRetries('latest', async () => {
          const response = await fetch(`${cluster.url}/v2/conans/${upload.recipe}/_/_/latest`);
          await expectStatus(response, 200, 'latest');
          await response.json();
        });
        await withRetries('revisions', async () => {
          const response = await fetch(`${cluster.url}/v2/conans/${upload.recipe}/_/_/revisions`);
          await expectStatus(response, 200, 'revisions');
          const { revisions } = await response.json();
          if (!revisions.some((r: { revision: string }) => r.revision === upload.revision)) throw new Error('acknowledged revision missing');
        });
        await withRetries('search', async () => {
          const response = await fetch(`${cluster.url}/v2/conans/search?q=load*`);
          await expectStatus(response, 200, 'search');
          await response.json();
        });
        await withRetries('download', async () => {
          const body = await download(upload, 'conan_export.tgz');
          if (sha1(body) !== sha1(upload.files['conan_export.tgz']!)) throw new Error('downloaded bytes differ');
        });
      }
    }

    const traffic = Promise.all([uploader(0), uploader(1), reader(), reader(), reader()]);
    const timeline: string[] = [];
    const note = (line: string) => timeline.push(`${new Date().toISOString().slice(11, 23)} ${line}`);
    try {
      await sleep(2000);
      phase = 'rolling restart';
      for (const node of cluster.nodes) {
        note(`SIGTERM node ${node.index}`);
        const code = await node.stop('SIGTERM');
        note(`node ${node.index} exited with ${code}`);
        expect(code).toBe(0);
        await node.start();
        note(`node ${node.index} ready`);
        // Longer than nginx's fail_timeout, so it uses the restarted node again before the next goes.
        await sleep(2500);
      }
      phase = 'between';
      await sleep(1000);
      // An upload certainly in flight on the node about to die.
      const victim = { recipe: 'load0/1.0', revision: sha1(`victim-${Math.random()}`).slice(0, 32) };
      const bodyOfVictim = new Uint8Array(randomBytes(4 * FILE_BYTES));
      const inFlight = new Promise<number>((resolve) => {
        const req = httpRequest(
          `${cluster.nodes[0]!.url}/v2/conans/${victim.recipe}/_/_/revisions/${victim.revision}/files/conan_export.tgz`,
          { method: 'PUT', headers: { ...bearer, 'content-length': bodyOfVictim.length, 'x-checksum-sha1': sha1(bodyOfVictim) } },
        );
        req.on('response', (res) => resolve(res.statusCode!));
        req.on('error', () => resolve(-1));
        req.write(bodyOfVictim.subarray(0, FILE_BYTES));
      });
      await sleep(200);
      phase = 'kill';
      note('SIGKILL node 0');
      await cluster.nodes[0]!.stop('SIGKILL');
      expect(await inFlight, 'the upload in flight on the killed node fails').toBe(-1);
      // Its retry, through nginx, succeeds; the revision is then completed and published.
      const victimFiles = {
        'conan_export.tgz': bodyOfVictim,
        'conanfile.py': new TextEncoder().encode('# victim\n'),
        'conanmanifest.txt': new TextEncoder().encode('victim manifest\n'),
      };
      for (const [name, body] of Object.entries(victimFiles)) {
        const response = await fetch(`${cluster.url}/v2/conans/${victim.recipe}/_/_/revisions/${victim.revision}/files/${name}`, {
          method: 'PUT',
          headers: { ...bearer, 'x-checksum-sha1': sha1(body) },
          body,
        });
        expect(response.status, `retry of ${name}`).toBe(200);
      }
      acknowledged.push({ ...victim, files: victimFiles });
      note('upload cut off by the kill retried through nginx');
      await cluster.nodes[0]!.start();
      note('node 0 ready');
      await sleep(2500);
      phase = 'after';
      await sleep(1500);
    } finally {
      running = false;
      await traffic;
    }

    // Every acknowledged upload is readable with its bytes, through any node.
    for (const upload of acknowledged) {
      for (const [name, body] of Object.entries(upload.files)) {
        expect(sha1(await download(upload, name)), `${upload.recipe}#${upload.revision} ${name}`).toBe(sha1(body));
      }
    }
    // No revision is visible without its manifest (and the files uploaded before it).
    let visible = 0;
    for (const recipe of ['load0/1.0', 'load1/1.0']) {
      const { revisions } = await (await fetch(`${cluster.url}/v2/conans/${recipe}/_/_/revisions`)).json();
      for (const { revision } of revisions) {
        visible += 1;
        const { files } = await (await fetch(`${cluster.url}/v2/conans/${recipe}/_/_/revisions/${revision}/files`)).json();
        expect(Object.keys(files).sort(), `${recipe}#${revision}`).toEqual(['conan_export.tgz', 'conanfile.py', 'conanmanifest.txt']);
      }
    }
    expect(visible).toBeGreaterThanOrEqual(acknowledged.length);

    // Bytes the nodes sent for file downloads (302s: headers only), from nginx's log.
    const log = (await readFile(cluster.accessLog, 'utf8')).trim().split('\n');
    let nodeBytes = 0;
    for (const line of log) {
      const [method, uri, , , , upstreamBytes] = line.split(' ');
      if (method === 'GET' && uri!.includes('/files/')) {
        nodeBytes += upstreamBytes!.split(/[,:] ?/).map(Number).filter(Number.isFinite).reduce((a, b) => a + b, 0);
      }
    }

    const failed = attempts.filter((a) => !a.ok);
    const byPhase = (p: Phase) => attempts.filter((a) => a.phase === p);
    const figures = [
      ...timeline,
      ...(['steady', 'rolling restart', 'between', 'kill', 'after'] as const).map(
        (p) => `${p}: ${byPhase(p).length} requests, ${failed.filter((a) => a.endPhase === p).length} failed`,
      ),
      `acknowledged uploads: ${acknowledged.length} revisions (${acknowledged.length * 3} files), visible revisions: ${visible}`,
      `downloads: ${bytes.downloads}, ${bytes.fromS3} bytes from S3; nodes sent ${nodeBytes} bytes for them ` +
        `(${((100 * nodeBytes) / bytes.fromS3).toFixed(3)} %)`,
      ...failed.map((a) => `failed (started: ${a.phase}, failed: ${a.endPhase}) ${a.operation}: ${a.detail?.split('\n')[0]}`),
    ];
    console.log(`cluster test figures:\n  ${figures.join('\n  ')}`);
    if (failed.length > 0) console.log(`nginx error log:\n${await readFile(`${cluster.dir}/error.log`, 'utf8').catch(() => '')}`);

    expect(byPhase('rolling restart').length).toBeGreaterThan(50);
    // Not one failed request during the rolling restart, nor outside the kill.
    expect(attempts.filter((a) => !a.ok && (a.phase === 'rolling restart' || a.endPhase === 'rolling restart'))).toEqual([]);
    expect(failed.filter((a) => a.endPhase !== 'kill')).toEqual([]);
    // During the kill only requests in flight on the killed node may fail (5 clients: at most 5);
    // withRetries retried each until it succeeded, or the traffic would have thrown.
    expect(failed.length).toBeLessThanOrEqual(5);
    expect(nodeBytes / bytes.fromS3).toBeLessThan(0.01);
  }, 180_000);
});
