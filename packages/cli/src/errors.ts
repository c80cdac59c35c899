/** Bad command line: unknown command or flag, missing argument. Exit code 2. */
export class UsageError extends Error {
  readonly exitCode = 2;
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** Configuration that cannot be used: unreadable file, value of the wrong shape. Exit code 2. */
export class ConfigError extends Error {
  readonly exitCode = 2;
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

/** A command that ran but could not do its job (user exists, user missing...). Exit code 1. */
export class CommandError extends Error {
  readonly exitCode = 1;
  constructor(message: string) {
    super(message);
    this.name = 'CommandError';
  }
}

/** The exit code an error stands for: 2 for usage and configuration, 1 for the rest. */
export function exitCodeOf(error: unknown): number {
  if (error instanceof UsageError || error instanceof ConfigError) return 2;
  return 1;
}

/**
 * A database or blob store that cannot be reached: an expected failure (the
 * message says which), not a bug. Matched by name too, should two copies of
 * the core be loaded.
 */
export function isBackendUnavailable(error: unknown): boolean {
  return error instanceof Error && (error.name === 'MetadataUnavailableError' || error.name === 'BlobStoreUnavailableError');
}
