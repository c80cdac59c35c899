#!/usr/bin/env node
// Server memory under binary listings (issue 8, item 5): a writer uploads a large
// `conaninfo.txt`, then anonymous callers list the binaries of its recipe revision
// (`GET .../revisions/{rrev}/search`). A server that reads every conaninfo.txt whole on each
// listing grows by (size x listings); one that bounds the file at upload and keeps what
// listings need in the metadata store stays flat.
//
// Two scenarios, each on a fresh server child (SQLite + local directory, 127.0.0.1, free port):
// the large file (--size-mib, default 150) and the baseline, a conaninfo.txt just under 1 MiB.
// For each: the upload's status, the server's RSS before the listings, its peak during them
// (VmHWM, reset through /proc/<pid>/clear_refs) and after. See bench/README.md.
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cleanupOnExit, removeOnExit, startServer, stopChild } from './lib/children.mjs';
import { parseBenchArgs } from './lib/options.mjs';

const MiB = 1024 * 1024;

const HELP = `Usage: node bench/listing-memory.mjs [options]

  --size-mib N     size of the large conaninfo.txt in MiB             [150]
  --listings N     concurrent binary listings after the upload        [6]
  -h, --help       this help
`;
const { flags } = parseBenchArgs(
  {
    'size-mib': { type: 'string', default: '150' },
    listings: { type: 'string', default: '6' },
  },
  HELP,
);
const sizeMiB = Number(flags['size-mib']);
const listings = Number(flags.listings);
if (!(sizeMiB > 0) || !Number.isInteger(listings) || listings < 1 || listings > 64) {
  console.error('Invalid --size-mib or --listings');
  process.exit(2);
}

cleanupOnExit();

// --- server child ----------------------------------------------------------------

const USER = 'bench';
const PASSWORD = 'bench-password';

async function startCimmeria() {
  const dir = removeOnExit(await mkdtemp(join(tmpdir(), 'cimmeria-listing-')));
  return startServer('cimmeria-server.mjs', { BENCH_DATA_DIR: dir, BENCH_USER: USER, BENCH_PASSWORD: PASSWORD });
}

async function status(pid, field) {
  const text = await readFile(`/proc/${pid}/status`, 'utf8');
  const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(text);
  return Number(match[1]) * 1024;
}

// --- HTTP ----------------------------------------------------------------------

function call(url, { method = 'GET', headers = {}, body } = {}) {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { method, headers, agent: false }, (res) => {
      let length = 0;
      let head = '';
      res.on('data', (chunk) => {
        length += chunk.length;
        if (head.length < 200) head += chunk.toString('utf8', 0, 200);
      });
      res.on('end', () => resolve({ status: res.statusCode, length, head }));
      res.on('error', reject);
    });
    req.on('error', (error) => (error.code === 'EPIPE' || error.code === 'ECONNRESET' ? undefined : reject(error)));
    if (body === undefined || typeof body === 'string') req.end(body);
    else {
      (async () => {
        for (const chunk of body) {
          if (req.destroyed) return;
          if (!req.write(chunk)) await new Promise((r) => req.once('drain', r));
        }
        req.end();
      })().catch(reject);
    }
  });
}

const md5 = (data) => createHash('md5').update(data).digest('hex');

/** A conaninfo.txt of `bytes` bytes, in 1 MiB chunks (the same bytes on every call). */
function* conaninfo(bytes) {
  const head = Buffer.from('[settings]\narch=x86_64\nos=Linux\n[options]\n');
  const filler = Buffer.alloc(MiB, 'opt=0123456789abcdef\n');
  let sent = 0;
  for (let first = true; sent < bytes; first = false) {
    const chunk = first ? Buffer.concat([head, filler]) : filler;
    const slice = chunk.subarray(0, Math.min(chunk.length, bytes - sent));
    sent += slice.length;
    yield slice;
  }
}

function md5Of(chunks) {
  const hash = createHash('md5');
  for (const chunk of chunks) hash.update(chunk);
  return hash.digest('hex');
}

async function scenario(label, bytes) {
  const server = await startCimmeria();
  try {
    const auth = `Basic ${Buffer.from(`${USER}:${PASSWORD}`).toString('base64')}`;
    const rrev = `${server.url}/v2/conans/big/1.0/_/_/revisions/a1`;
    const put = (path, body, extra = {}) => call(`${rrev}${path}`, { method: 'PUT', headers: { authorization: auth, ...extra }, body });
    const conanfile = 'from conan import ConanFile\nclass Pkg(ConanFile):\n    pass\n';
    await put('/files/conanfile.py', conanfile);
    await put('/files/conanmanifest.txt', `1700000000\nconanfile.py: ${md5(conanfile)}\n`);
    const pkg = '/packages/f00d/revisions/b1/files';
    const upload = await put(`${pkg}/conaninfo.txt`, conaninfo(bytes), { 'content-length': String(bytes) });
    await put(`${pkg}/conanmanifest.txt`, `1700000000\nconaninfo.txt: ${md5Of(conaninfo(bytes))}\n`);

    await new Promise((r) => setTimeout(r, 500));
    const before = await status(server.pid, 'VmRSS');
    await writeFile(`/proc/${server.pid}/clear_refs`, '5');
    const answers = await Promise.all(Array.from({ length: listings }, () => call(`${rrev}/search`)));
    const peak = await status(server.pid, 'VmHWM');
    const after = await status(server.pid, 'VmRSS');
    const row = {
      label,
      upload: upload.status,
      listing: `${answers[0].status}, ${(answers[0].length / MiB).toFixed(2)} MiB`,
      before,
      peak,
      after,
    };
    console.log(
      `${label}: upload ${row.upload}, ${listings} listings -> ${row.listing} each; ` +
        `server RSS before ${mib(before)}, peak ${mib(peak)}, after ${mib(after)}`,
    );
    return row;
  } finally {
    await stopChild(server.child);
  }
}

const mib = (bytes) => `${Math.round(bytes / MiB)} MiB`;

const large = await scenario(`conaninfo.txt ${sizeMiB} MiB`, Math.round(sizeMiB * MiB));
const small = await scenario('conaninfo.txt 1 MiB - 1 KiB (baseline)', MiB - 1024);
console.log(`\n${listings} concurrent listings of GET .../revisions/{rrev}/search`);
console.log('scenario                                   upload  RSS before  peak       after      peak / before');
for (const row of [large, small]) {
  console.log(
    `${row.label.padEnd(42)} ${String(row.upload).padEnd(7)} ${mib(row.before).padEnd(11)} ${mib(row.peak).padEnd(10)} ${mib(row.after).padEnd(10)} ${(row.peak / row.before).toFixed(2)}`,
  );
}
console.log(`peak of the large scenario / peak of the baseline: ${(large.peak / small.peak).toFixed(2)}`);
