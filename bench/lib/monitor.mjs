// What a server child tells the parent about itself, over IPC, between measurements only:
// its CPU time (to see which side of a load test is saturated) and, on platforms without
// /proc/<pid>/status, its peak RSS, sampled between `rss-start` and `rss-stop` so no timer
// runs while requests per second are being measured. And `serveChild`, the rest of that
// protocol for a bare node:http server child: `ready` with its URL, then `stop`.
export function startMonitor(intervalMs = 20) {
  let timer;
  let peak = 0;
  const sample = () => {
    peak = Math.max(peak, process.memoryUsage.rss());
  };
  return {
    handle(message) {
      if (message?.type === 'cpu') {
        const { user, system } = process.cpuUsage();
        process.send?.({ type: 'cpu', micros: user + system });
      } else if (message?.type === 'rss-start') {
        clearInterval(timer);
        peak = 0;
        sample();
        timer = setInterval(sample, intervalMs);
        process.send?.({ type: 'rss-started' });
      } else if (message?.type === 'rss-stop') {
        clearInterval(timer);
        sample();
        process.send?.({ type: 'rss-peak', bytes: peak });
      }
    },
  };
}

/**
 * Runs `server` (a node:http server) as a bench server child: listens on 127.0.0.1 and a free
 * port, sends the parent `ready` with its URL, answers the monitor's messages, and closes every
 * connection and exits on `stop` or when the parent goes away.
 */
export function serveChild(server) {
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
}
