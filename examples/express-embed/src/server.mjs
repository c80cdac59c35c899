// One command: `pnpm --filter @cimmeria/example-express-embed start`.
import { randomBytes } from 'node:crypto';
import { createApp } from './app.mjs';

const port = Number(process.env.PORT ?? 3000);
const { app, close } = await createApp({
  dataDir: process.env.DATA_DIR ?? './data',
  user: process.env.CONAN_USER ?? 'demo',
  password: process.env.CONAN_PASSWORD ?? 'demo',
  // Sessions end at restart unless a secret is configured.
  tokenSecret: process.env.TOKEN_SECRET ?? randomBytes(32).toString('hex'),
});
// Express 5 hands listen errors (e.g. EADDRINUSE) to this callback rather than throwing.
const server = app.listen(port, (error) => {
  if (error) {
    console.error(`Cannot listen on port ${port}: ${error.message}`);
    close().finally(() => process.exit(1));
    return;
  }
  const url = `http://localhost:${server.address().port}`;
  console.log(`Express app on ${url} (Conan remote: ${url}/conan)`);
});
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.once(signal, () => {
    // close() only drops the connections idle at that moment; keep dropping those
    // that turn idle as their last request finishes, instead of waiting out keep-alive.
    setInterval(() => server.closeIdleConnections(), 100).unref();
    server.close(() => close().then(() => process.exit(0)));
  });
}
