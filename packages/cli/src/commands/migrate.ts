import { openMetadataStore } from '../backends/open-metadata.js';
import { UsageError } from '../errors.js';
import { BACKEND_OPTIONS, METADATA_USAGE, loadBackendConfig } from './backend-options.js';
import { parseCommandLine } from './parse.js';

export const MIGRATE_USAGE = `Usage: cimmeria migrate [options]

Applies pending migrations to the metadata database and prints their names.
'cimmeria serve' does the same at start; run this to migrate before
rolling out new nodes. On PostgreSQL migrations run under an advisory lock:
any number of nodes and migrate commands may start together.

Options:
${METADATA_USAGE}
  -h, --help                show this help
`;

/** `cimmeria migrate`. Resolves with the exit code. */
export async function migrateCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseCommandLine(args, BACKEND_OPTIONS, 'migrate');
  if (values.help) {
    process.stdout.write(MIGRATE_USAGE);
    return 0;
  }
  if (positionals.length > 0) throw new UsageError(`Unexpected argument '${positionals[0]}'\nRun 'cimmeria migrate --help' for usage.`);
  const config = await loadBackendConfig(values);
  const opened = await openMetadataStore(config, { migrate: false });
  try {
    const applied = await opened.migrate();
    for (const name of applied) process.stdout.write(`applied ${name}\n`);
    process.stderr.write(
      applied.length === 0
        ? `${opened.description}: up to date\n`
        : `${opened.description}: applied ${applied.length} migration(s)\n`,
    );
    return 0;
  } finally {
    await opened.close();
  }
}
