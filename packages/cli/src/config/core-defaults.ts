// The core's defaults that `cimmeria serve`'s settings share, copied here so that reading the
// configuration loads no part of the core: the primary of `--workers N` reads it and never
// serves. test/config.test.ts checks that these equal the core's.

/** As `DEFAULT_MAX_UPLOAD_BYTES` of @cimmeria/core. */
export const DEFAULT_MAX_UPLOAD_BYTES = 10 * 1024 ** 3;
/** As `DEFAULT_MAX_TEXT_FILE_BYTES` of @cimmeria/core. */
export const DEFAULT_MAX_TEXT_FILE_BYTES = 1024 ** 2;
/** As `LOGIN_PROTECTION_DEFAULTS` of @cimmeria/core. */
export const LOGIN_PROTECTION_DEFAULTS = {
  maxConcurrentPasswordChecks: 2,
  passwordCheckQueueSize: 16,
  loginFailuresPerUser: 10,
  loginFailuresPerAddress: 30,
  loginThrottleWindowSeconds: 60,
  credentialCacheSeconds: 5,
} as const;
