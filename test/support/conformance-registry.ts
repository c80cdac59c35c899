import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  ConanServerAuthorizer,
  PasswordAuthenticator,
  StaticUsers,
  TokenService,
  createRegistry,
  hashPassword,
  type Registry,
  type RegistryOptions,
} from '@cimmeria/core';
import { CONFORMANCE_PERMISSIONS, CONFORMANCE_USERS } from '@cimmeria/core/testing';
import { createSqliteMetadataStore } from '@cimmeria/metadata-sqlite';
import { FsBlobStore } from '@cimmeria/storage-fs';

/** Path of the recording of the real client, kept in the repository. */
export const RECORDING = new URL('../../conformance/conan2-reference.jsonl', import.meta.url).pathname;

let hashes: Promise<Record<string, string>> | undefined;

/**
 * The users' hashes, made once per process: registries standing for nodes of
 * one cluster share them as they would share a config file (tokens are tied
 * to the stored hash, so each node hashing on its own would refuse the
 * others' tokens).
 */
function conformanceHashes(): Promise<Record<string, string>> {
  hashes ??= Promise.all(
    Object.entries(CONFORMANCE_USERS).map(async ([u, p]) => [u, await hashPassword(p)] as const),
  ).then(Object.fromEntries);
  return hashes;
}

/** A registry on SQLite + a local directory in a fresh temp dir, with the recording's users and permissions. */
export async function conformanceRegistry(
  overrides: Partial<RegistryOptions> = {},
): Promise<{ registry: Registry; dispose: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'cimmeria-conformance-'));
  const sqlite = createSqliteMetadataStore({ filename: join(dir, 'metadata.db') });
  await sqlite.store.migrate();
  const hashes = await conformanceHashes();
  const registry = createRegistry({
    metadata: sqlite.store,
    blobs: new FsBlobStore({ directory: join(dir, 'blobs') }),
    authenticator: new PasswordAuthenticator(new StaticUsers(hashes)),
    tokens: new TokenService({ secret: 'conformance-secret-0123456789' }),
    authorizer: new ConanServerAuthorizer(CONFORMANCE_PERMISSIONS),
    ...overrides,
  });
  return {
    registry,
    dispose: async () => {
      await sqlite.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
