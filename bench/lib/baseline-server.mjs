// Child process: the baseline, a bare node:http server answering every request with the same
// fixed JSON body (the one Cimmeria answers GET .../latest with), on 127.0.0.1 and a free port.
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { serveChild } from './monitor.mjs';

// BENCH_BODY_FILE for bodies too big for the environment.
const body = process.env.BENCH_BODY_FILE ? readFileSync(process.env.BENCH_BODY_FILE) : Buffer.from(process.env.BENCH_BODY ?? '{}');
const server = createServer((req, res) => {
  res.writeHead(200, { 'content-type': 'application/json', 'content-length': body.length });
  res.end(body);
});
serveChild(server);
