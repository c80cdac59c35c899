import pkg from '../package.json' with { type: 'json' };
import { UsageError, exitCodeOf, isBackendUnavailable } from './errors.js';

const USAGE = `Usage: cimmeria <command> [options]

Cimmeria: a Conan 2 repository server.

Commands:
  serve                 run the server
  migrate               apply pending database migrations
  gc                    remove stored files no revision uses any more
  import conan-server   copy a conan_server storage directory in
  user                  add, change, remove and list users
  token                 create, list and revoke API tokens (for CI)
  audit                 list who changed what, and when
  hash-password         print the scrypt hash of a password, for config files

Run 'cimmeria <command> --help' for a command's options.
Options: -h, --help; -v, --version
`;

// Loaded on demand: help and usage errors should not wait for SQLite, pino and the core to load.
const COMMANDS: Record<string, () => Promise<(args: string[]) => Promise<number>>> = {
  serve: async () => (await import('./commands/serve.js')).serveCommand,
  migrate: async () => (await import('./commands/migrate.js')).migrateCommand,
  gc: async () => (await import('./commands/gc.js')).gcCommand,
  import: async () => (await import('./commands/import.js')).importCommand,
  user: async () => (await import('./commands/user.js')).userCommand,
  token: async () => (await import('./commands/token.js')).tokenCommand,
  audit: async () => (await import('./commands/audit.js')).auditCommand,
  'hash-password': async () => (await import('./commands/hash-password.js')).hashPasswordCommand,
};

/**
 * V8 flags of the server process (and of its workers, which inherit them).
 * The young generation grows to 16 MiB x 2 while the server starts (module
 * loading, migrations) and never shrinks; capped, an idle server keeps about
 * 13 MiB less. A flag the user sets (NODE_OPTIONS, node's command line) wins.
 */
export const SERVE_NODE_FLAGS = ['--max-semi-space-size=2'];

/**
 * Environment of the server process. glibc raises its mmap threshold to the
 * size of the largest block freed (up to 32 MiB): after the first login,
 * scrypt's 16 MiB blocks come from the heap and stay there, and a few logins
 * at once leave the process 50 MiB bigger for good. A fixed threshold keeps
 * them mmapped, returned on free. Other C libraries ignore the variable; one
 * the user sets wins.
 */
export const SERVE_ENV: Record<string, string> = { MALLOC_MMAP_THRESHOLD_: String(1024 * 1024) };

/**
 * Runs this same process again (same pid, by execve) with
 * {@link SERVE_NODE_FLAGS} and {@link SERVE_ENV}: V8 and the C library read
 * them only at start. Where execve is missing (Windows, Node before 22.15),
 * the server runs without them.
 */
function reexecForServe(): void {
  if (typeof process.execve !== 'function') return;
  const given = [...process.execArgv, ...(process.env.NODE_OPTIONS ?? '').split(/\s+/)];
  const flags = SERVE_NODE_FLAGS.filter((flag) => !given.some((arg) => arg.startsWith(flag.slice(0, flag.indexOf('=')))));
  const env = Object.fromEntries(Object.entries(SERVE_ENV).filter(([name]) => process.env[name] === undefined));
  if (flags.length === 0 && Object.keys(env).length === 0) return;
  try {
    process.execve(process.execPath, [process.execPath, ...process.execArgv, ...flags, ...process.argv.slice(1)], { ...process.env, ...env });
  } catch {
    // Not fatal: the server runs, with the defaults.
  }
}

async function main(argv: string[]): Promise<number> {
  const [command, ...args] = argv;
  if (command === 'serve') reexecForServe();
  if (command === undefined) {
    process.stderr.write(USAGE);
    return 2;
  }
  if (command === '-h' || command === '--help' || command === 'help') {
    process.stdout.write(USAGE);
    return 0;
  }
  if (command === '-v' || command === '--version') {
    process.stdout.write(`${pkg.version}\n`);
    return 0;
  }
  const load = COMMANDS[command];
  if (!load) {
    const what = command.startsWith('-') ? `Unknown option '${command}'` : `Unknown command '${command}'`;
    throw new UsageError(`${what}\nRun 'cimmeria --help' for usage.`);
  }
  return (await load())(args);
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    // Backend outages (database or blob store unreachable) are expected failures too.
    const known = error instanceof Error && ('exitCode' in error || isBackendUnavailable(error));
    // Expected failures get their message only; a stack is for bugs.
    process.stderr.write(`${known ? (error as Error).message : error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(exitCodeOf(error));
  },
);
