// Defaults of registry options that `cimmeria serve`'s settings share. A module of its own,
// importing nothing, published as `@cimmeria/core/defaults`: reading the configuration (the
// primary of `--workers N` does, and never serves) then loads no other part of the core.

/** Largest upload, in bytes, unless `maxUploadBytes` says otherwise. */
export const DEFAULT_MAX_UPLOAD_BYTES = 10 * 1024 ** 3;
/** Largest `conaninfo.txt` / `conanmanifest.txt`, in bytes, unless `maxTextFileBytes` says otherwise. */
export const DEFAULT_MAX_TEXT_FILE_BYTES = 1024 ** 2;

/** Defaults of the login protection settings (registry options and `cimmeria serve`). */
export const LOGIN_PROTECTION_DEFAULTS = {
  /** Half of libuv's default pool of 4 threads, which file I/O shares with scrypt. */
  maxConcurrentPasswordChecks: 2,
  passwordCheckQueueSize: 16,
  loginFailuresPerUser: 10,
  loginFailuresPerAddress: 30,
  loginThrottleWindowSeconds: 60,
  credentialCacheSeconds: 5,
} as const;
