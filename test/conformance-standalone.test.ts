import { conformanceContract } from '@cimmeria/core/testing';
import { startServe, tempDir } from '../packages/cli/test/support/cli-process.js';
import { RECORDING } from './support/conformance-registry.js';
import { standaloneTarget } from './support/conformance-targets.js';

const SERVER_CONF = new URL('../conformance/server.conf', import.meta.url).pathname;

// The real built `cimmeria serve` in a child process, configured only by the
// reference server's own server.conf: users, permissions and jwt settings.
conformanceContract('standalone cimmeria serve', RECORDING, () => standaloneTarget(SERVER_CONF, 'cimmeria-standalone-'));

// The same through two worker processes (node:cluster): every request may land on either, so
// all state must be in the database and the blob store, none in a process.
conformanceContract('standalone cimmeria serve --workers 2', RECORDING, async () => {
  const data = await tempDir('cimmeria-standalone-workers-');
  const serve = await startServe(
    ['--port', '0', '--host', '127.0.0.1', '--data', data.dir, '--conan-server-conf', SERVER_CONF, '--workers', '2'],
    { timeoutMs: 90_000 },
  );
  return {
    // A connection per request: the cluster hands connections to the workers in turn.
    fetch: (path, init) => fetch(`${serve.url}${path}`, { ...init, headers: { ...Object.fromEntries(new Headers(init?.headers)), connection: 'close' } }),
    close: async () => {
      const code = await serve.stop();
      await data.remove();
      if (code !== 0) throw new Error(`cimmeria serve --workers 2 exited with ${code}:\n${serve.stderr()}`);
    },
  };
});
