// What a server child tells the parent about itself, over IPC, between measurements only:
// its CPU time (to see which side of a load test is saturated) and, on platforms without
// /proc/<pid>/status, its peak RSS, sampled between `rss-start` and `rss-stop` so no timer
// runs while requests per second are being measured.
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
