// nginx as the download baseline: serves one directory with sendfile, from a throwaway prefix
// (config, logs, temp paths) in a temp dir, on 127.0.0.1 and a free port. One process
// (master_process off), so that killing it on exit leaves no worker behind.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { killOnExit } from './children.mjs';

export const NGINX = process.env.BENCH_NGINX ?? '/usr/sbin/nginx';

/** Whether the nginx binary is there. */
export const nginxInstalled = () => existsSync(NGINX);

function freePort() {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address();
      probe.close(() => resolve(port));
    });
  });
}

/** Starts nginx serving `root`; `prefix` is an empty directory for its own files. */
export async function startNginx(root, prefix) {
  await mkdir(join(prefix, 'tmp'), { recursive: true });
  const port = await freePort();
  const temp = (name) => `${name}_temp_path ${join(prefix, 'tmp', name)};`;
  const config = `daemon off;
master_process off;
worker_processes 1;
error_log ${join(prefix, 'error.log')};
pid ${join(prefix, 'nginx.pid')};
events { worker_connections 256; }
http {
  access_log off;
  sendfile on;
  tcp_nopush on;
  ${['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map(temp).join('\n  ')}
  server {
    listen 127.0.0.1:${port};
    root ${root};
  }
}
`;
  const configPath = join(prefix, 'nginx.conf');
  await writeFile(configPath, config);
  const child = killOnExit(
    spawn(NGINX, ['-p', prefix, '-e', join(prefix, 'error.log'), '-c', configPath], { stdio: ['ignore', 'inherit', 'inherit'] }),
  );
  const url = `http://127.0.0.1:${port}`;
  for (let attempt = 0; ; attempt++) {
    if (child.exitCode !== null) throw new Error(`nginx exited with ${child.exitCode}; see ${join(prefix, 'error.log')}`);
    const up = await fetch(`${url}/`, { method: 'HEAD' }).then(
      () => true,
      () => false,
    );
    if (up) break;
    if (attempt > 100) throw new Error('nginx did not answer within 5 s');
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    url,
    pid: child.pid,
    stop: () =>
      new Promise((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}
