// Child process: the baseline of bench/workers-throughput.mjs, a bare node:http server answering
// every request with the same fixed JSON body, run as BENCH_WORKERS processes on one port with
// node:cluster (as `cimmeria serve --workers N` runs), on 127.0.0.1 and a free port.
import cluster from 'node:cluster';
import { createServer } from 'node:http';

const workers = Number(process.env.BENCH_WORKERS ?? 1);

if (cluster.isPrimary) {
  let ready = 0;
  let url;
  for (let i = 0; i < workers; i++) {
    cluster.fork().on('message', (message) => {
      if (message?.type !== 'ready') return;
      url = message.url;
      if (++ready === workers) process.send?.({ type: 'ready', url });
    });
  }
  const stop = () => {
    for (const worker of Object.values(cluster.workers ?? {})) worker?.process.kill('SIGKILL');
    process.exit(0);
  };
  process.on('message', (message) => message?.type === 'stop' && stop());
  process.on('disconnect', stop);
} else {
  const body = Buffer.from(process.env.BENCH_BODY ?? '{}');
  const server = createServer((req, res) => {
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': body.length });
    res.end(body);
  });
  // Port 0 in a cluster: every worker shares the one port the primary picked.
  server.listen(0, '127.0.0.1', () => process.send({ type: 'ready', url: `http://127.0.0.1:${server.address().port}` }));
}
