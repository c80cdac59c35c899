import { loadConfig } from '../config/load-config.js';
import type { CimmeriaConfig } from '../config/schema.js';

/** Flags of every command that opens the stores. */
export const BACKEND_OPTIONS = {
  data: { type: 'string' },
  config: { type: 'string' },
  database: { type: 'string' },
  storage: { type: 'string' },
} as const;

const DATA_USAGE = `  --data DIR                data directory (default ./cimmeria-data)               [CIMMERIA_DATA]`;
const DATABASE_USAGE = `  --database URL            sqlite:PATH (default sqlite:DATA/metadata.db) or
                            postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE        [CIMMERIA_DATABASE]`;
const STORAGE_USAGE = `  --storage URL             fs:DIR (default fs:DATA/blobs) or
                            s3://BUCKET[/PREFIX][?region=R&endpoint=URL&forcePathStyle=true]
                                                                                   [CIMMERIA_STORAGE]`;
const CONFIG_USAGE = `  --config FILE             JSON or YAML config file                               [CIMMERIA_CONFIG]`;

/** Help lines for {@link BACKEND_OPTIONS}. */
export const BACKEND_USAGE = [DATA_USAGE, DATABASE_USAGE, STORAGE_USAGE, CONFIG_USAGE].join('\n');

/**
 * Help lines of the commands that open the metadata database only
 * (`migrate`, `user`). They still accept `--storage`, so that one set of
 * flags serves every command, but do not list it: they never use it.
 */
export const METADATA_USAGE = [DATA_USAGE, DATABASE_USAGE, CONFIG_USAGE].join('\n');

/** The configuration, with the backend flags given on the command line. */
export function loadBackendConfig(
  values: { data?: string; config?: string; database?: string; storage?: string },
  flags: Record<string, unknown> = {},
): Promise<CimmeriaConfig> {
  return loadConfig({
    configFile: values.config,
    flags: { data: values.data, database: values.database, storage: values.storage, ...flags },
  });
}
