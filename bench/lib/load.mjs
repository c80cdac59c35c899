// Child process: runs autocannon against one URL and sends the result to the parent, so load
// generation never shares an event loop with a server under test.
import autocannon from 'autocannon';

process.on('disconnect', () => process.exit(0));

const options = JSON.parse(process.argv[2]);
const started = process.cpuUsage();
const result = await autocannon(options);
const cpu = process.cpuUsage(started);
process.send(
  {
    type: 'result',
    result: {
      requests: result.requests.total,
      durationSeconds: result.duration,
      latency: result.latency,
      non2xx: result.non2xx,
      errors: result.errors,
      timeouts: result.timeouts,
      statusCodeStats: result.statusCodeStats,
      bytes: result.throughput.total,
      cpuMicros: cpu.user + cpu.system,
    },
  },
  () => process.exit(0),
);
