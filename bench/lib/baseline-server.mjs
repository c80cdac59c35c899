// Child process: the baseline, a bare node:http server answering every request with the same
// fixed JSON body (the one Cimmeria answers GET .../latest with), on 127.0.0.1 and a free port.
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { startMonitor } from './monitor.mjs';

// BENCH_BODY_FILE for bodies too big for the environment.
const body = process.env.BENCH_BODY_FILE ? readFileSync(process.env.BENCH_BODY_FILE) : Buffer.from(process.env.BENCH_BODY ?? '{}');
const server = createServer((req, res) => {
  res.writeHead(200, { 'content-type': 'application/json', 'content-length': body.length });
  res.end(body);
});
server.listen(0, '127.0.0.1', () => {
  process.send?.({ type: 'ready', url: `http://127.0.0.1:${server.address().port}` });
});
const monitor = startMonitor();
const stop = () => {
  server.closeAllConnections();
  server.close(() => process.exit(0));
};
process.on('message', (message) => (message?.type === 'stop' ? stop() : monitor.handle(message)));
process.on('disconnect', stop);
