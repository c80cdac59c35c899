import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { expect } from 'vitest';

/**
 * The real conan client, opt-in: CI relies on the recorded conversation and
 * the tests, not on a client installed by hand. Set CIMMERIA_CONAN_CLIENT
 * to a `conan` executable (2.x) to run the checks with it; undefined otherwise.
 */
export const CONAN = [process.env.CIMMERIA_CONAN_CLIENT].find((p): p is string => !!p && existsSync(p));

/** Exit code and output (stdout then stderr) of one conan command. */
export interface ConanResult {
  code: number;
  output: string;
}

/** Runs the real conan client with its own CONAN_HOME; resolves with the exit code and output. */
export async function conan(home: string, cwd: string, ...args: string[]): Promise<ConanResult> {
  try {
    const { stdout, stderr } = await promisify(execFile)(CONAN!, args, { cwd, env: { ...process.env, CONAN_HOME: home }, timeout: 60_000 });
    return { code: 0, output: stdout + stderr };
  } catch (error) {
    const e = error as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : 1, output: `${e.stdout ?? ''}${e.stderr ?? ''}` };
  }
}

/**
 * Writes a recipe `name`/1.0 (class `className`) to `dir`/recipe, with a
 * CONAN_HOME of its own in `dir`/conan-home. `run` runs conan there;
 * `ok` runs it and expects exit code 0, showing the output if not.
 */
export async function conanRecipe(
  dir: string,
  name: string,
  className: string,
): Promise<{ run: (...args: string[]) => Promise<ConanResult>; ok: (...args: string[]) => Promise<void> }> {
  const home = join(dir, 'conan-home');
  const recipe = join(dir, 'recipe');
  await mkdir(recipe);
  await writeFile(
    join(recipe, 'conanfile.py'),
    `from conan import ConanFile\n\nclass ${className}(ConanFile):\n    name = "${name}"\n    version = "1.0"\n`,
  );
  const run = (...args: string[]) => conan(home, recipe, ...args);
  const ok = async (...args: string[]) => {
    const result = await run(...args);
    expect(result.code, `conan ${args.join(' ')}:\n${result.output}`).toBe(0);
  };
  return { run, ok };
}
