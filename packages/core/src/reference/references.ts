import { ConanError } from '../service/errors.js';
import { ID_RULE, NAME_PATTERN, PACKAGE_ID_PATTERN, REVISION_PATTERN } from './names.js';
import { printable } from './printable.js';

/** A recipe without revision: `name/version[@user/channel]`. User and channel are `undefined` when absent. */
export interface RecipeRef {
  readonly name: string;
  readonly version: string;
  readonly user?: string;
  readonly channel?: string;
}

/** A recipe revision: `name/version[@user/channel]#rrev`. */
export interface RecipeRevisionRef extends RecipeRef {
  readonly revision: string;
}

/** A binary package of a recipe revision: `...#rrev:package_id`. */
export interface PackageRef extends RecipeRevisionRef {
  readonly packageId: string;
}

/** A package revision: `...#rrev:package_id#prev`. */
export interface PackageRevisionRef extends PackageRef {
  readonly packageRevision: string;
}

function invalid(what: string, value: string, rule: string): ConanError {
  return new ConanError('INVALID_REFERENCE', `Invalid ${what} '${value}': ${rule}`);
}

const NAME_RULE = 'must be 2-101 characters of [a-zA-Z0-9_+.-], not starting with + . or -';

/**
 * Builds a recipe reference from the four wire segments, where `_` means
 * "no user/channel". Throws `INVALID_REFERENCE` on anything Conan would reject.
 */
export function recipeRefFromSegments(
  name: string,
  version: string,
  user: string,
  channel: string,
): RecipeRef {
  if (!NAME_PATTERN.test(name)) throw invalid('name', name, NAME_RULE);
  if (!NAME_PATTERN.test(version)) throw invalid('version', version, NAME_RULE);
  const noUser = user === '_';
  const noChannel = channel === '_';
  if (noUser !== noChannel) {
    throw new ConanError(
      'INVALID_REFERENCE',
      `Invalid reference '${name}/${version}@${user}/${channel}': user and channel go together`,
    );
  }
  if (noUser) return { name, version };
  if (!NAME_PATTERN.test(user)) throw invalid('user', user, NAME_RULE);
  if (!NAME_PATTERN.test(channel)) throw invalid('channel', channel, NAME_RULE);
  return { name, version, user, channel };
}

/**
 * Validates a recipe or package revision: any one safe path segment, as
 * conan_server takes (see {@link ID_PATTERN}). Throws `INVALID_REFERENCE`
 * (400) for one that could never be stored; an unknown one is for the
 * caller to answer 404.
 */
export function checkRevision(revision: string): string {
  if (!REVISION_PATTERN.test(revision)) throw invalid('revision', printable(revision, 80), ID_RULE);
  return revision;
}

/** Validates a package id, by the same rule as {@link checkRevision}. */
export function checkPackageId(packageId: string): string {
  if (!PACKAGE_ID_PATTERN.test(packageId)) throw invalid('package id', printable(packageId, 80), ID_RULE);
  return packageId;
}

/** `name/version` or `name/version@user/channel`, as search results show it. */
export function formatRecipe(ref: RecipeRef): string {
  return ref.user === undefined
    ? `${ref.name}/${ref.version}`
    : `${ref.name}/${ref.version}@${ref.user}/${ref.channel}`;
}

/** `name/version@user/channel` with `_` for none, as conan_server names things in errors. */
export function formatRecipeForMessage(ref: RecipeRef): string {
  return `${ref.name}/${ref.version}@${ref.user ?? '_'}/${ref.channel ?? '_'}`;
}

export function formatRecipeRevision(ref: RecipeRevisionRef): string {
  return `${formatRecipeForMessage(ref)}#${ref.revision}`;
}

export function formatPackage(ref: PackageRef): string {
  return `${formatRecipeRevision(ref)}:${ref.packageId}`;
}

export function formatPackageRevision(ref: PackageRevisionRef): string {
  return `${formatPackage(ref)}#${ref.packageRevision}`;
}
