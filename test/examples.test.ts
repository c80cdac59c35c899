import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exerciseExample, runExampleToExit, startExample, type RunningExample } from './support/example-app.js';

// Each example is started with its own one command, as its README says.
describe.each(['express-embed', 'fastify-embed'])('examples/%s', (name) => {
  let example: RunningExample;
  beforeAll(async () => {
    example = await startExample(new URL(`../examples/${name}`, import.meta.url).pathname);
  });
  afterAll(() => example?.stop());

  it('serves its own routes, and Conan at /conan', async () => {
    expect(example.url).toMatch(/^http:\/\/localhost:\d+$/);
    await exerciseExample(example.url);
  });

  it('item 9: on a busy port, says so in one line (no stack) and exits 1', async () => {
    const busyPort = new URL(example.url).port;
    const second = await runExampleToExit(new URL(`../examples/${name}`, import.meta.url).pathname, { PORT: busyPort });
    expect(second.code).toBe(1);
    expect(second.stderr).toMatch(new RegExp(`^Cannot listen on port ${busyPort}: listen EADDRINUSE[^\n]*\n$`));
    expect(second.stdout).toBe('');
  });
});
