import { conformanceContract } from '@cimmeria/core/testing';
import { startServe, tempDir } from '../packages/cli/test/support/cli-process.js';
import { RECORDING } from './support/conformance-registry.js';

const SERVER_CONF = new URL('../conformance/server.conf', import.meta.url).pathname;

// The real built `cimmeria serve` in a child process, configured only by the
// reference server's own server.conf: users, permissions and jwt settings.
conformanceContract('standalone cimmeria serve', RECORDING, async () => {
  const data = await tempDir('cimmeria-standalone-');
  const serve = await startServe([
    '--port', '0', '--host', '127.0.0.1', '--data', data.dir, '--conan-server-conf', SERVER_CONF,
  ]);
  return {
    fetch: (path, init) => fetch(`${serve.url}${path}`, init),
    close: async () => {
      const code = await serve.stop();
      await data.remove();
      if (code !== 0) throw new Error(`cimmeria serve exited with ${code}:\n${serve.stderr()}`);
    },
  };
});
