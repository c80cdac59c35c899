import { randomBytes } from 'node:crypto';
import {
  ConanServerAuthorizer,
  PasswordAuthenticator,
  StaticUsers,
  TokenService,
  createRegistry,
  chainHashSources,
  firstOf,
  hashPassword,
  type Authenticator,
  type PermissionRule,
  type Registry,
  type RegistryMetrics,
} from '@cimmeria/core';
import type { OpenedBlobStore } from './backends/open-blob-store.js';
import type { OpenedMetadata, OpenMetadataOptions } from './backends/open-metadata.js';
import { openStores } from './backends/open-stores.js';
import type { CimmeriaConfig } from './config/schema.js';
import { persistentTokenSecret } from './data-dir.js';
import { ldapAuthenticator } from './ldap.js';

/** The user created on a first start with no user configured anywhere. */
export const BOOTSTRAP_ADMIN = 'admin';

/** Write rule in force when none is configured and users are managed with `cimmeria user` only. */
export const ADMIN_WRITE_RULES: PermissionRule[] = [{ pattern: '*/*@*/*', users: [BOOTSTRAP_ADMIN] }];

/** Options of {@link buildRegistry}. */
export interface BuildRegistryOptions extends OpenMetadataOptions {
  /** Measure the registry's requests, transfers and store calls there. */
  metrics?: RegistryMetrics;
  /** The LDAP directory failed during a login or an API token check (unreachable, timed out...); the client got 503. */
  onDirectoryError?: (error: unknown) => void;
}

/** A registry on the data directory, and what happened while opening it. */
export interface OpenedRegistry {
  registry: Registry;
  metadata: OpenedMetadata;
  blobs: OpenedBlobStore;
  /** True when the token secret is this node's own (generated in the data directory), not configured. */
  localTokenSecret: boolean;
  /** The password of the `admin` user created by this start; shown once, stored only hashed. */
  createdAdminPassword?: string;
  /** The write rules in force; `defaulted` when they are not from the configuration. */
  writeRules: { rules: PermissionRule[]; defaulted: boolean };
  close(): Promise<void>;
}

/**
 * Opens the configured metadata database (migrated) and blob store, reads
 * or creates the token secret, and assembles the registry. Users come from the configuration (static,
 * tried first) and from the metadata store (`cimmeria user ...`). When
 * neither has a user, creates `admin` with a random password.
 *
 * Permissions: read defaults to anyone. Write defaults to no one, except
 * when users are managed only in the store (no static users): then `admin`
 * may write, so a fresh install can be used at once and the bootstrap user
 * keeps that right across restarts.
 */
export async function buildRegistry(config: CimmeriaConfig, options: BuildRegistryOptions = {}): Promise<OpenedRegistry> {
  const { metrics, onDirectoryError, ...openOptions } = options;
  const { metadata, blobs, close } = await openStores(config, openOptions);
  try {
    const staticUsers = Object.keys(config.users).length > 0;
    let createdAdminPassword: string | undefined;
    if (!staticUsers && (await metadata.store.listUsers()).length === 0) {
      const password = randomBytes(18).toString('base64url');
      // Nodes starting together on an empty database: one creates admin, and
      // only that one prints a password (the one that works).
      if (await metadata.store.addUser(BOOTSTRAP_ADMIN, await hashPassword(password), { user: 'cli:serve' })) createdAdminPassword = password;
    }
    // Static users shadow store users of the same name; the directory comes last.
    const passwords: Authenticator = new PasswordAuthenticator(chainHashSources(new StaticUsers(config.users), metadata.store));
    const authenticator = config.ldap
      ? firstOf(passwords, await ldapAuthenticator(config.ldap, onDirectoryError ?? (() => {})))
      : passwords;
    const configuredWrite = config.permissions.write;
    const writeRules = configuredWrite
      ? { rules: configuredWrite, defaulted: false }
      : { rules: staticUsers ? [] : ADMIN_WRITE_RULES, defaulted: true };
    const registry = createRegistry({
      metadata: metadata.store,
      blobs: blobs.store,
      authenticator,
      tokens: new TokenService({
        secret: config.tokenSecret ?? (await persistentTokenSecret(config.data)),
        previousSecrets: config.previousTokenSecrets,
        // JWT times are whole seconds; fractional minutes come from conan_server confs (0.02 = 1.2 s).
        expiresInSeconds: Math.max(1, Math.round(config.tokenExpiresMinutes * 60)),
      }),
      authorizer: new ConanServerAuthorizer({ read: config.permissions.read, write: writeRules.rules }),
      maxUploadBytes: config.maxUploadBytes,
      maxTextFileBytes: config.maxTextFileBytes,
      reuploadMakesLatest: config.reuploadMakesLatest,
      downloads: config.downloads,
      presignExpiresInSeconds: config.presignExpiresSeconds,
      checksumDeploy: config.checksumDeploy,
      conan1V1Mode: config.conan1V1Mode,
      ...(config.conan1PublicUrl === undefined ? {} : { conan1PublicUrl: config.conan1PublicUrl }),
      maxConcurrentPasswordChecks: config.maxConcurrentPasswordChecks,
      passwordCheckQueueSize: config.passwordCheckQueueSize,
      loginFailuresPerUser: config.loginFailuresPerUser,
      loginFailuresPerAddress: config.loginFailuresPerAddress,
      loginThrottleWindowSeconds: config.loginThrottleWindowSeconds,
      credentialCacheSeconds: config.credentialCacheSeconds,
      ...(metrics ? { metrics } : {}),
    });
    return {
      registry,
      metadata,
      blobs,
      localTokenSecret: config.tokenSecret === undefined,
      createdAdminPassword,
      writeRules,
      close,
    };
  } catch (error) {
    await close();
    throw error;
  }
}
