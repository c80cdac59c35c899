import { hashPassword } from '@cimmeria/core';
import { UsageError } from '../errors.js';
import { readNewPassword } from '../password-input.js';
import { parseCommandLine } from './parse.js';

export const HASH_PASSWORD_USAGE = `Usage: cimmeria hash-password [--password P]

Prints the scrypt hash of a password, for the "users" map of a config file.
The password comes from --password, else the first line of stdin, or a
prompt without echo on a terminal.
`;

/** `cimmeria hash-password`: prints a hash for static users in a config file. */
export async function hashPasswordCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseCommandLine(args, { password: { type: 'string' } }, 'hash-password');
  if (values.help) {
    process.stdout.write(HASH_PASSWORD_USAGE);
    return 0;
  }
  if (positionals.length > 0) throw new UsageError(`Unexpected argument '${positionals[0]}'\nRun 'cimmeria hash-password --help' for usage.`);
  process.stdout.write(`${await hashPassword(await readNewPassword(values.password))}\n`);
  return 0;
}
