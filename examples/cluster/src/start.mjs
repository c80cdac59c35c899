// One command for a whole cluster on this machine: PostgreSQL (started with
// Debian's pg_ctlcluster if it is not running), an S3-compatible server
// (s3rver, in this process), N Cimmeria nodes, and nginx in front. Ctrl-C
// stops everything (PostgreSQL keeps running).
//
//   node src/start.mjs [--nodes 2] [--port 8080]
//   DATABASE_URL=postgres://postgres@127.0.0.1:5432/test (default), schema cimmeria_cluster
//   CLUSTER_S3_DIR=./cimmeria-cluster-s3 (default): the S3 server's files
import { mkdir } from 'node:fs/promises';
import { resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { execFileSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import S3rver from 's3rver';
import { startCluster } from './cluster.mjs';

const { values } = parseArgs({
  options: { nodes: { type: 'string', default: '2' }, port: { type: 'string', default: '8080' } },
});
const database = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
await ensurePostgres(database);
const bucket = 'cimmeria';

// Kept across runs, as the metadata in PostgreSQL is: bytes and records stay together.
const s3Dir = resolve(process.env.CLUSTER_S3_DIR ?? 'cimmeria-cluster-s3');
await mkdir(s3Dir, { recursive: true });
const s3 = new S3rver({ address: '127.0.0.1', port: 0, silent: true, directory: s3Dir, configureBuckets: [{ name: bucket }] });
const { port: s3Port } = await s3.run();
const endpoint = `http://127.0.0.1:${s3Port}`;

const cluster = await startCluster({
  nodes: Number(values.nodes),
  port: Number(values.port),
  database,
  databaseSchema: 'cimmeria_cluster',
  // s3rver's fixed account; on AWS leave the keys out and let the SDK find credentials.
  storage: `s3://${bucket}/packages?endpoint=${encodeURIComponent(endpoint)}&forcePathStyle=true&accessKeyId=S3RVER&secretAccessKey=S3RVER`,
});

console.log(`Cimmeria cluster on ${cluster.url} (nginx) with ${cluster.nodes.length} nodes:`);
for (const node of cluster.nodes) console.log(`  node ${node.index}: ${node.url} (pid ${node.child.pid}), log ${cluster.dir}/node-${node.index}.log`);
console.log(`S3 (s3rver): ${endpoint}, bucket ${bucket}; metadata: ${database} schema cimmeria_cluster`);
console.log(`nginx access log: ${cluster.accessLog}`);
console.log(`\n  conan remote add cimmeria ${cluster.url}\n  conan remote login cimmeria admin -p ${cluster.adminPassword}\n`);
console.log('Type "restart" for a rolling restart of every node, "restart N" for node N, "kill N" to SIGKILL node N and start it again.');

// Rolling restarts from the terminal, to watch clients not notice. Commands
// run one after the other: two restarts of one node at once would collide.
let queue = Promise.resolve();
createInterface({ input: process.stdin }).on('line', (line) => {
  const [command, which] = line.trim().split(/\s+/);
  if (command !== 'restart' && command !== 'kill') return;
  const targets = which === undefined ? cluster.nodes : [cluster.nodes[Number(which)]].filter(Boolean);
  queue = queue.then(async () => {
    for (const node of targets) {
      const started = Date.now();
      const code = await node.stop(command === 'kill' ? 'SIGKILL' : 'SIGTERM');
      console.log(`node ${node.index} exited (${code}) after ${Date.now() - started} ms; starting it again`);
      try {
        await node.start();
        console.log(`node ${node.index} ready again (pid ${node.child.pid})`);
      } catch (error) {
        console.log(`node ${node.index} did not start: ${error.message} (see its log)`);
      }
    }
  });
});

/** Starts the machine's PostgreSQL cluster (Debian's pg_ctlcluster) when nothing answers at `url`. */
async function ensurePostgres(url) {
  const { hostname, port } = new URL(url);
  const ready = () => {
    try {
      execFileSync('pg_isready', ['-q', '-h', hostname, '-p', port || '5432']);
      return true;
    } catch {
      return false;
    }
  };
  if (ready()) return;
  const [version] = readdirSync('/etc/postgresql');
  console.log(`PostgreSQL does not answer at ${hostname}:${port || 5432}: starting cluster ${version}/main`);
  execFileSync('pg_ctlcluster', ['--skip-systemctl-redirect', version, 'main', 'start'], { stdio: 'inherit' });
  for (let i = 0; i < 30 && !ready(); i++) await new Promise((resolve) => setTimeout(resolve, 1000));
  if (!ready()) throw new Error('PostgreSQL did not start');
}

let stopping = false;
const stop = async () => {
  if (stopping) process.exit(1);
  stopping = true;
  console.log('stopping...');
  await cluster.stop({ removeDir: true });
  await s3.close();
  process.exit(0);
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
