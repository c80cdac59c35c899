import { verifyPassword } from '@cimmeria/core';
import type { CimmeriaConfig } from '../../src/index.js';

// The library part, from its sources (the CLI itself is tested built, in child processes).
export * from '../../src/index.js';

/** Whether `password` matches the static user `name` of a loaded configuration. */
export async function verifyPasswordFor(config: CimmeriaConfig, name: string, password: string): Promise<boolean> {
  const hash = config.users[name];
  return hash !== undefined && verifyPassword(password, hash);
}
