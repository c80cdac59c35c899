import { readFile } from 'node:fs/promises';
import { ConfigError } from '../errors.js';

/** Configuration values as one source gave them, before validation. */
export type RawConfig = Record<string, unknown>;

/**
 * What one source (defaults, a conan_server conf, a config file, the
 * environment, command-line flags) contributes, and where each value came
 * from so a validation error can name it.
 */
export interface ConfigLayer {
  values: RawConfig;
  /** Source label by key path: `port`, `users.alice`, `permissions.write`. */
  sources: Record<string, string>;
  /** Things worth telling the operator that are not errors. */
  warnings?: string[];
  /** conan_server plugins the source names: Cimmeria cannot run them, so they stop startup unless ignored. */
  conanServerPlugins?: ConanServerPlugin[];
}

/** A `custom_authenticator` or `custom_authorizer` of a conan_server conf. */
export interface ConanServerPlugin {
  key: 'custom_authenticator' | 'custom_authorizer';
  /** The plugin's name, as written. */
  value: string;
  /** Where it is written: `FILE [server]`. */
  source: string;
}

/** Reads a configuration source's text; a failure is a {@link ConfigError} naming `what` and the file. */
export async function readConfigText(file: string, what: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (error) {
    throw new ConfigError(`Cannot read ${what} ${file}: ${(error as Error).message}`);
  }
}
