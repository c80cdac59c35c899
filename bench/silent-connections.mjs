#!/usr/bin/env node
// Silent connections against `cimmeria serve` (issue 8, item 7).
//
// Starts the built `cimmeria serve` (SQLite + disk) in a child process, opens --count TCP
// connections that send nothing (as a half-open flood does), then: times a real client's
// `GET /v2/ping` during the flood, counts the flood connections the server still holds
// open after 2 s and after --hold seconds, and how long the last one stayed open. Settings
// passed through the environment (CIMMERIA_MAX_CONNECTIONS...) are the server's; a server
// that does not know them warns and ignores them.
//
//   node bench/silent-connections.mjs [--count 3000] [--hold 15]
//
// Everything listens on 127.0.0.1; the child is killed and its data removed on exit.
import { mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { startServe } from '../packages/cli/test/support/cli-process.ts';

const { values: args } = parseArgs({
  options: { count: { type: 'string', default: '3000' }, hold: { type: 'string', default: '15' } },
});
const COUNT = Number(args.count);
const HOLD_MS = Number(args.hold) * 1000;

const data = await mkdtemp(join(tmpdir(), 'cimmeria-silent-'));
// The caller's CIMMERIA_* settings are passed on (e.g. CIMMERIA_MAX_CONNECTIONS=200).
const settings = Object.fromEntries(Object.entries(process.env).filter(([k]) => k.startsWith('CIMMERIA_')));
const sockets = [];
let serve;
try {
  serve = await startServe(['--port', '0', '--host', '127.0.0.1', '--data', data], {
    env: { ...settings, CIMMERIA_LOG_LEVEL: 'silent', CIMMERIA_DRAIN_DELAY_MS: '0' },
  });
  const { url } = serve;
  const port = Number(new URL(url).port);

  const started = Date.now();
  let open = 0;
  let lastClosedAfter = 0;
  for (let i = 0; i < COUNT; i++) {
    const socket = net.connect(port, '127.0.0.1');
    sockets.push(socket);
    socket.on('error', () => {});
    let connected = false;
    socket.once('connect', () => {
      connected = true;
      open += 1;
    });
    socket.once('close', () => {
      if (connected) open -= 1;
      lastClosedAfter = Date.now() - started;
    });
    if (i % 200 === 199) await new Promise((resolve) => setImmediate(resolve));
  }
  await new Promise((resolve) => setTimeout(resolve, 500));
  const pingStarted = performance.now();
  let ping;
  try {
    const response = await fetch(`${url}/v2/ping`, { signal: AbortSignal.timeout(10_000) });
    ping = `${response.status} in ${(performance.now() - pingStarted).toFixed(0)} ms`;
  } catch (error) {
    ping = `failed after ${(performance.now() - pingStarted).toFixed(0)} ms (${error.cause?.code ?? error.name})`;
  }
  await new Promise((resolve) => setTimeout(resolve, Math.max(0, started + 2_000 - Date.now())));
  const openAt2s = open;
  await new Promise((resolve) => setTimeout(resolve, Math.max(0, started + HOLD_MS - Date.now())));
  const shown = Object.entries(settings).map(([k, v]) => `${k}=${v}`);
  console.log(`${COUNT} silent connections (server settings: ${shown.join(' ') || 'defaults'})`);
  console.log(`real client GET /v2/ping during the flood: ${ping}`);
  console.log(`flood connections still open after 2 s: ${openAt2s}; after ${HOLD_MS / 1000} s: ${open}`);
  console.log(open === 0 ? `the last one was closed after ${lastClosedAfter} ms` : 'not all were closed');
} finally {
  for (const socket of sockets) socket.destroy();
  await serve?.stop('SIGKILL');
  await rm(data, { recursive: true, force: true });
}
