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

/** A registry on SQLite + a local directory in a fresh temp dir, with the recording's users and permissions. */
export async function conformanceRegistry(
  overrides: Partial<RegistryOptions> = {},
): Promise<{ registry: Registry; dispose: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'cimmeria-conformance-'));
  const sqlite = createSqliteMetadataStore({ filename: join(dir, 'metadata.db') });
  await sqlite.store.migrate();
  const hashes = Object.fromEntries(
    await Promise.all(Object.entries(CONFORMANCE_USERS).map(async ([u, p]) => [u, await hashPassword(p)] as const)),
  );
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
