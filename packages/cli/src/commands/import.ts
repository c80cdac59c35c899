import { resolve } from 'node:path';
import { withStores } from '../backends/open-stores.js';
import { importConanServer, type ImportProgress } from '../import/conan-server-import.js';
import { CommandError, UsageError, isBackendUnavailable } from '../errors.js';
import { formatBytes } from '../format.js';
import { BACKEND_OPTIONS, BACKEND_USAGE, loadBackendConfig } from './backend-options.js';
import { parseCommandLine } from './parse.js';

export const IMPORT_USAGE = `Usage: cimmeria import conan-server DIR [options]

Copies a conan_server storage folder (DIR: its data folder, usually
~/.conan_server/data, or ~/.conan_server itself) into the configured
database and blob store: every recipe and package revision listed in its
revisions.txt files, with all their files and their original times and
order. Running it again changes nothing. Entries that cannot be imported are
reported and skipped; the exit code is then 1.

Users and permissions are not in the storage folder: start the server with
--conan-server-conf server.conf to keep them.

Options:
${BACKEND_USAGE}
  -h, --help                show this help
`;

function summary(p: ImportProgress): string {
  return (
    `${p.recipeRevisions.imported} recipe revision(s) and ${p.packageRevisions.imported} package revision(s) imported ` +
    `(${p.files} files, ${formatBytes(p.bytes)}); ${p.recipeRevisions.present + p.packageRevisions.present} already present; ` +
    `${p.problems} skipped`
  );
}

const usage = (message: string) => new UsageError(`${message}\nRun 'cimmeria import --help' for usage.`);

/** `cimmeria import conan-server DIR`. Resolves with the exit code. */
export async function importCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseCommandLine(args, BACKEND_OPTIONS, 'import');
  if (values.help) {
    process.stdout.write(IMPORT_USAGE);
    return 0;
  }
  const [source, directory, ...rest] = positionals;
  if (source !== 'conan-server') throw usage(source === undefined ? 'Missing source: cimmeria import conan-server DIR' : `Unknown source '${source}' (known: conan-server)`);
  if (directory === undefined) throw usage('Missing the conan_server storage folder: cimmeria import conan-server DIR');
  if (rest.length > 0) throw usage(`Unexpected argument '${rest[0]}'`);

  const config = await loadBackendConfig(values);
  return withStores(config, async ({ metadata, blobs }) => {
    process.stderr.write(`Importing ${resolve(directory)} into ${metadata.description} and ${blobs.description}\n`);
    let report;
    try {
      report = await importConanServer({
        directory: resolve(directory),
        metadata: metadata.store,
        blobs: blobs.store,
        // The final totals are the summary printed below: once is enough.
        onProgress: (progress, final) => {
          if (!final) process.stderr.write(`import: ${summary(progress)}\n`);
        },
        onProblem: (problem) => process.stderr.write(`skipped ${problem.path}: ${problem.message}\n`),
      });
    } catch (error) {
      if (isBackendUnavailable(error)) throw error;
      throw new CommandError(`Cannot import ${directory}: ${(error as Error).message}`);
    }
    process.stdout.write(`${summary(report)}\n`);
    return report.problems > 0 ? 1 : 0;
  });
}
