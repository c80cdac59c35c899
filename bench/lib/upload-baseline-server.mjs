// Child process: the upload baseline, a bare node:http server that streams each request body to a
// new file on disk while computing its sha1 (what an upload must do at the least), and answers
// 200 with the sha1, or 400 when it differs from X-Checksum-Sha1. On 127.0.0.1 and a free port.
import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import { createServer } from 'node:http';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { serveChild } from './monitor.mjs';

const dir = process.env.BENCH_DATA_DIR;
if (!dir || !process.send) {
  console.error('upload-baseline-server.mjs is started by bench/http-throughput.mjs');
  process.exit(2);
}
let count = 0;
const server = createServer(async (req, res) => {
  const path = join(dir, `upload-${count++}`);
  const sha1 = createHash('sha1');
  req.on('data', (chunk) => sha1.update(chunk));
  try {
    await pipeline(req, createWriteStream(path));
  } catch {
    res.destroy();
    return;
  }
  const digest = sha1.digest('hex');
  const expected = req.headers['x-checksum-sha1'];
  // Only the newest upload is kept: the disk holds one file per server, like the other side.
  await rm(join(dir, `upload-${count - 2}`), { force: true });
  res.writeHead(expected === undefined || expected === digest ? 200 : 400, { 'content-length': digest.length });
  res.end(digest);
});
serveChild(server);
