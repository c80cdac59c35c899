import type { Authenticator } from './authenticator.js';
import { PerUserCache, type PerUserCacheOptions } from './per-user-cache.js';

/** Options of {@link CredentialVersions}. */
export type CredentialVersionsOptions = PerUserCacheOptions;

/**
 * Current credential versions of users (`Authenticator.credentialVersion`),
 * cached per user for at most `maxAgeSeconds`, so checking a session token
 * costs a look-up per user every few seconds instead of one per request.
 */
export class CredentialVersions extends PerUserCache<string | undefined> {
  constructor(lookup: Required<Pick<Authenticator, 'credentialVersion'>>, options: CredentialVersionsOptions) {
    super((user) => lookup.credentialVersion(user), options);
  }
}
