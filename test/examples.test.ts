import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exerciseExample, startExample, type RunningExample } from './support/example-app.js';

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
});
