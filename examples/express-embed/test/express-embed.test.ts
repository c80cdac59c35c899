import { afterAll, beforeAll, expect, it } from 'vitest';
import { exerciseExample, startExample, type RunningExample } from '../../../test/support/example-app.js';

let example: RunningExample;
beforeAll(async () => {
  example = await startExample(new URL('..', import.meta.url).pathname);
});
afterAll(() => example?.stop());

it('starts with its one command and serves its own routes and Conan at /conan', async () => {
  expect(example.url).toMatch(/^http:\/\/localhost:\d+$/);
  await exerciseExample(example.url);
});
