// Child process: floods one URL with HTTP Basic requests carrying random credentials, as a
// password-guessing attacker would, from a fixed number of keep-alive connections for a fixed
// time. Tells the parent when every connection has sent its first request ('started'), then
// the count of answers per status ('result'). Bounded: each request times out, and nothing new
// is sent once the duration is over.
import { randomBytes } from 'node:crypto';
import { Agent, request } from 'node:http';

process.on('disconnect', () => process.exit(0));

const { url, connections, durationSeconds, requestTimeoutMs = 30_000 } = JSON.parse(process.argv[2]);
const agent = new Agent({ keepAlive: true, maxSockets: connections });
const statuses = {};
let errors = 0;
let sent = 0;
const deadline = Date.now() + durationSeconds * 1000;

function once() {
  const credentials = `${randomBytes(6).toString('hex')}:${randomBytes(12).toString('base64url')}`;
  return new Promise((resolve) => {
    const req = request(
      url,
      { agent, headers: { authorization: `Basic ${Buffer.from(credentials).toString('base64')}` }, timeout: requestTimeoutMs },
      (res) => {
        res.resume();
        res.on('end', () => {
          statuses[res.statusCode] = (statuses[res.statusCode] ?? 0) + 1;
          resolve();
        });
        res.on('error', () => {
          errors++;
          resolve();
        });
      },
    );
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', () => {
      errors++;
      resolve();
    });
    req.end();
    sent++;
  });
}

async function connectionLoop() {
  while (Date.now() < deadline) await once();
}

const started = Date.now();
const loops = Array.from({ length: connections }, connectionLoop);
process.send({ type: 'started' });
await Promise.all(loops);
agent.destroy();
process.send(
  { type: 'result', result: { sent, statuses, errors, seconds: (Date.now() - started) / 1000 } },
  () => process.exit(0),
);
