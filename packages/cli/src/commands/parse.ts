import { parseArgs, type ParseArgsConfig } from 'node:util';
import { UsageError } from '../errors.js';

type Options = NonNullable<ParseArgsConfig['options']>;

/**
 * `parseArgs` in strict mode, with its errors (unknown flag, missing value)
 * turned into usage errors that point at the command's `--help`.
 */
export function parseCommandLine<O extends Options>(args: string[], options: O, command: string) {
  try {
    return parseArgs({ args, options: { ...options, help: { type: 'boolean', short: 'h' } }, allowPositionals: true, strict: true });
  } catch (error) {
    // Node's text for an unknown option goes on about '--' positionals; the first sentence is the point.
    const message = (error as Error).message.replace(/\. To specify a positional argument.*$/s, '');
    throw new UsageError(`${message}\nRun 'cimmeria ${command} --help' for usage.`);
  }
}
