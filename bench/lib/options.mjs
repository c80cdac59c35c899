// Numeric options of the benchmarks, from a flag or else an environment variable.

/**
 * The number given as `--flag` (in `flags`, from parseArgs) or else in `process.env[env]`, or
 * `fallback`; exits with status 2 and a message if it is not a number within the bounds.
 */
export function numberOption(flags, flag, env, fallback, { min = 0, max = Infinity, integer = false } = {}) {
  const raw = flags[flag] ?? process.env[env];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < min || value > max || (integer && !Number.isInteger(value))) {
    console.error(`Invalid --${flag} / ${env}: ${raw}`);
    process.exit(2);
  }
  return value;
}
