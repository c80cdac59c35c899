import type { FileOwner } from '../metadata/metadata-store.js';
import { checkFilePath } from '../reference/file-path.js';
import { checkPackageId, checkRevision, recipeRefFromSegments } from '../reference/references.js';
import { ConanError } from '../service/errors.js';

/**
 * Path of a file in conan_server's store, which Conan 1 file URLs carry:
 * `{name}/{version}/{user}/{channel}/{rrev}/export/{file}` or
 * `.../{rrev}/package/{id}/{prev}/{file}` (`_` for no user or channel).
 */
export function resourcePath(owner: FileOwner, file: string): string {
  const r = owner.ref;
  const recipe = `${r.name}/${r.version}/${r.user ?? '_'}/${r.channel ?? '_'}/${r.revision}`;
  return owner.kind === 'recipe'
    ? `${recipe}/export/${file}`
    : `${recipe}/package/${owner.ref.packageId}/${owner.ref.packageRevision}/${file}`;
}

/** The owner and file a resource path names; anything else is `FILE_NOT_FOUND`. */
export function parseResourcePath(segments: readonly string[]): { owner: FileOwner; file: string } {
  try {
    const [name, version, user, channel, revision, kind, ...rest] = segments;
    if (!name || !version || !user || !channel || !revision) throw new Error('short');
    const ref = { ...recipeRefFromSegments(name, version, user, channel), revision: checkRevision(revision) };
    if (kind === 'export' && rest.length >= 1) return { owner: { kind: 'recipe', ref }, file: checkFilePath(rest.join('/')) };
    if (kind === 'package' && rest.length >= 3) {
      const [packageId, packageRevision, ...file] = rest;
      const pkg = { ...ref, packageId: checkPackageId(packageId!), packageRevision: checkRevision(packageRevision!) };
      return { owner: { kind: 'package', ref: pkg }, file: checkFilePath(file.join('/')) };
    }
  } catch {
    // Whatever is wrong with it, the URL names no file.
  }
  throw new ConanError('FILE_NOT_FOUND', 'File not found');
}
