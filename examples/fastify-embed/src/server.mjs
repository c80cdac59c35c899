// One command: `pnpm --filter @cimmeria/example-fastify-embed start`.
import { randomBytes } from 'node:crypto';
import { createApp } from './app.mjs';

const port = Number(process.env.PORT ?? 3000);
const app = await createApp({
  dataDir: process.env.DATA_DIR ?? './data',
  user: process.env.CONAN_USER ?? 'demo',
  password: process.env.CONAN_PASSWORD ?? 'demo',
  // Sessions end at restart unless a secret is configured.
  tokenSecret: process.env.TOKEN_SECRET ?? randomBytes(32).toString('hex'),
  logger: true,
});
try {
  await app.listen({ port, host: '0.0.0.0' });
} catch (error) {
  // A busy port is an operator's mistake, not a bug: one line, as the Express example says it.
  console.error(`Cannot listen on port ${port}: ${error.message}`);
  await app.close();
  process.exit(1);
}
const url = `http://localhost:${app.server.address().port}`;
console.log(`Fastify app on ${url} (Conan remote: ${url}/conan)`);
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.once(signal, () => {
    // close() only drops the connections idle at that moment; keep dropping those
    // that turn idle as their last request finishes, instead of waiting out keep-alive.
    setInterval(() => app.server.closeIdleConnections(), 100).unref();
    app.close().then(() => process.exit(0));
  });
}
