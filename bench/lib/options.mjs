// Command-line options of the benchmarks.
import { parseArgs } from 'node:util';

/**
 * Parses the command line with `options` plus `-h, --help` (which prints `help` and exits 0).
 * Returns the flags and `numberOption(flag, env, fallback, bounds)`: the number given as
 * `--flag`, or else in `process.env[env]`, or `fallback`; it exits with status 2 and a message
 * if that is not a number within the bounds.
 */
export function parseBenchArgs(options, help) {
  const { values: flags } = parseArgs({ options: { ...options, help: { type: 'boolean', short: 'h', default: false } } });
  if (flags.help) {
    process.stdout.write(help);
    process.exit(0);
  }
  const numberOption = (flag, env, fallback, { min = 0, max = Infinity, integer = false } = {}) => {
    const raw = flags[flag] ?? process.env[env];
    if (raw === undefined || raw === '') return fallback;
    const value = Number(raw);
    if (!Number.isFinite(value) || value < min || value > max || (integer && !Number.isInteger(value))) {
      console.error(`Invalid --${flag} / ${env}: ${raw}`);
      process.exit(2);
    }
    return value;
  };
  return { flags, numberOption };
}
