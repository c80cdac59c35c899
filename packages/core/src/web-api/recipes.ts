import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import { z } from 'zod';
import { parseConaninfo, requiredVersionMatches } from '../metadata/conaninfo.js';
import type { RecipeHistory } from '../metadata/metadata-store.js';
import { RECIPE_FILE, isMetadataPath } from '../metadata/revision-content.js';
import { compileFnmatch } from '../reference/fnmatch.js';
import { searchNamePrefix } from '../reference/recipe-search.js';
import { nameSchema } from '../reference/names.js';
import { checkRevision, formatRecipe, recipeRefFromSegments, type RecipeRef, type RecipeRevisionRef } from '../reference/references.js';
import type { ConanService } from '../service/conan-service.js';
import { ConanError } from '../service/errors.js';
import { formatTime, json, revisionJson } from '../http/responses.js';
import { compareConanVersions } from './version-order.js';
import type { ReadAccess } from './read-access.js';

/** Longest `q`: recipe names have at most 101 characters. */
export const MAX_QUERY_LENGTH = 128;
export const MAX_PER_PAGE = 100;
export const DEFAULT_PER_PAGE = 50;
/** Highest page number: deep offsets cost the database more than anyone reads. */
export const MAX_PAGE = 10_000;
/** Most `conanfile.py` bytes shown. */
export const MAX_CONANFILE_BYTES = 512 * 1024;
/** Most dependents listed (and index rows read to find them). */
export const MAX_DEPENDENTS = 1000;
const DEPENDENT_ROWS_READ = 5000;
/** Checks between two yields to the event loop in listings that check recipes one by one. */
const YIELD_EVERY = 200;
/** Names matched between two yields: most are rejected in a few dozen nanoseconds, a long pattern takes longer. */
const NAMES_BETWEEN_YIELDS = 10_000;

const listQuery = z.object({
  q: z.string().trim().max(MAX_QUERY_LENGTH, `q must be at most ${MAX_QUERY_LENGTH} characters`).default(''),
  page: z.coerce.number().int().min(1).max(MAX_PAGE).default(1),
  perPage: z.coerce.number().int().min(1).max(MAX_PER_PAGE).default(DEFAULT_PER_PAGE),
});

const dependentsQuery = z.object({
  version: z.string().min(1).max(101).optional(),
});

function parseQuery<T extends z.ZodType>(schema: T, url: URL): z.output<T> {
  const values: Record<string, string> = {};
  for (const [key, value] of url.searchParams) if (value !== '' || key === 'q') values[key] = value;
  const result = schema.safeParse(values);
  if (!result.success) throw new ConanError('BAD_REQUEST', result.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '));
  return result.data;
}

function checkName(name: string): string {
  const result = nameSchema.safeParse(name);
  if (!result.success) throw new ConanError('INVALID_REFERENCE', `Invalid recipe name: ${result.error.issues[0]?.message ?? ''}`);
  return name;
}

const part = (value: string | undefined) => value ?? null;

const codeUnits = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** Newest version first (Conan's order), then user/channel (code-unit order, the same on every host). */
function newestFirst(a: RecipeHistory, b: RecipeHistory): number {
  return (
    compareConanVersions(b.ref.version, a.ref.version) ||
    codeUnits(a.ref.user ?? '', b.ref.user ?? '') ||
    codeUnits(a.ref.channel ?? '', b.ref.channel ?? '')
  );
}

/** The latest of a name's recipes: newest version, then newest revision. */
function latestOf(histories: RecipeHistory[]): RecipeHistory {
  return histories.reduce((best, h) => {
    const order = compareConanVersions(h.ref.version, best.ref.version);
    return order > 0 || (order === 0 && h.revisions[0]!.timeMicros > best.revisions[0]!.timeMicros) ? h : best;
  });
}

async function readableHistories(access: ReadAccess, service: ConanService, names: string[]): Promise<Map<string, RecipeHistory[]>> {
  const byName = new Map<string, RecipeHistory[]>();
  for (const history of await service.metadata.recipeHistories(names)) {
    if (!(await access.canRead(history.ref))) continue;
    const list = byName.get(history.ref.name) ?? [];
    list.push(history);
    byName.set(history.ref.name, list);
  }
  return byName;
}

/** `GET /api/v1/recipes?q=&page=&perPage=`: one item per readable recipe name, sorted by name. */
export async function listRecipes(service: ConanService, access: ReadAccess, url: URL): Promise<Response> {
  const { q, page, perPage } = parseQuery(listQuery, url);
  // A plain word is a prefix; a pattern is matched over the whole name.
  const hasWildcard = /[*?[]/.test(q);
  const pattern = hasWildcard ? q : `${q}*`;
  // What the database may narrow by: the literal head's ASCII part, as the Conan search does.
  const prefix = searchNamePrefix(pattern);
  const offset = (page - 1) * perPage;
  let names: string[];
  let total: number;
  if (pattern === `${prefix}*` && (await access.readsEverything())) {
    // Everything readable and a prefix: the database pages.
    ({ names, total } = await service.metadata.visibleRecipeNames({ namePrefix: prefix, offset, limit: perPage }));
  } else if (await access.readsEverything()) {
    // Everything readable, a pattern: match the distinct names only.
    const matcher = compileFnmatch(pattern, { ignoreCase: true });
    const all = await service.metadata.visibleRecipeNames({ namePrefix: prefix, offset: 0, limit: Number.MAX_SAFE_INTEGER });
    const matching: string[] = [];
    for (let i = 0; i < all.names.length; i++) {
      if (i > 0 && i % NAMES_BETWEEN_YIELDS === 0) await yieldToEventLoop();
      const name = all.names[i]!;
      if (matcher.matches(name)) matching.push(name);
    }
    total = matching.length;
    names = matching.slice(offset, offset + perPage);
  } else {
    const matcher = compileFnmatch(pattern, { ignoreCase: true });
    const readable: string[] = [];
    const candidates = await service.metadata.searchRecipes(prefix);
    let last: string | undefined;
    for (let i = 0; i < candidates.length; i++) {
      if (i > 0 && i % YIELD_EVERY === 0) await yieldToEventLoop();
      const ref = candidates[i]!;
      // Sorted by name: a name already listed needs no more checks.
      if (ref.name === last || !matcher.matches(ref.name)) continue;
      if (await access.canRead(ref)) readable.push((last = ref.name));
    }
    total = readable.length;
    names = readable.slice(offset, offset + perPage);
  }
  const histories = await readableHistories(access, service, names);
  const items = names.flatMap((name) => {
    const list = histories.get(name);
    if (!list || list.length === 0) return [];
    const latest = latestOf(list);
    return [
      {
        name,
        latest: {
          reference: formatRecipe(latest.ref),
          version: latest.ref.version,
          user: part(latest.ref.user),
          channel: part(latest.ref.channel),
          ...revisionJson(latest.revisions[0]!),
        },
        versions: list.length,
      },
    ];
  });
  return json({ items, page, perPage, total });
}

/** `GET /api/v1/recipes/{name}`: its readable references, newest version first. */
export async function recipeDetail(service: ConanService, access: ReadAccess, rawName: string): Promise<Response> {
  const name = checkName(rawName);
  const list = (await readableHistories(access, service, [name])).get(name);
  if (!list || list.length === 0) throw new ConanError('RECIPE_NOT_FOUND', `Recipe not found: '${name}'`);
  return json({
    name,
    versions: list.sort(newestFirst).map((h) => ({
      version: h.ref.version,
      user: part(h.ref.user),
      channel: part(h.ref.channel),
      reference: formatRecipe(h.ref),
      latestRevision: revisionJson(h.revisions[0]!),
      revisions: h.revisions.length,
    })),
  });
}

/** The reference of `/recipes/{name}/{version}/{user}/{channel}/...`. */
export function recipeOf(segments: string[]): RecipeRef {
  return recipeRefFromSegments(segments[0]!, segments[1]!, segments[2]!, segments[3]!);
}

/** `GET .../revisions`: newest first. */
export async function recipeRevisions(service: ConanService, access: ReadAccess, ref: RecipeRef): Promise<Response> {
  const revisions = await service.recipeRevisions(access.principal, ref);
  return json({
    reference: formatRecipe(ref),
    revisions: revisions.map(revisionJson),
  });
}

async function visibleRevision(access: ReadAccess, ref: RecipeRef, revision: string): Promise<RecipeRevisionRef> {
  const revisionRef = { ...ref, revision: checkRevision(revision) };
  await access.require(ref);
  return revisionRef;
}

/** `GET .../revisions/{rrev}`: files with sizes, conanfile.py (bounded), metadata files. */
export async function revisionDetail(service: ConanService, access: ReadAccess, ref: RecipeRef, revision: string): Promise<Response> {
  const revisionRef = await visibleRevision(access, ref, revision);
  const [entry, files] = await Promise.all([
    service.metadata.recipeRevision(revisionRef),
    service.metadata.files({ kind: 'recipe', ref: revisionRef }),
  ]);
  if (!entry || !files) throw new ConanError('RECIPE_NOT_FOUND', `Recipe not found: '${formatRecipe(ref)}#${revisionRef.revision}'`);
  const conanfile = files.find((f) => f.path === RECIPE_FILE);
  let text: string | null = null;
  if (conanfile) {
    const end = Math.min(conanfile.size, MAX_CONANFILE_BYTES);
    text = end === 0 ? '' : await readText(service, conanfile.blobKey, end);
  }
  const list = (metadata: boolean) =>
    files.filter((f) => isMetadataPath(f.path) === metadata).map((f) => ({ path: f.path, size: f.size }));
  return json({
    reference: formatRecipe(ref),
    revision: entry.revision,
    time: formatTime(entry.timeMicros),
    files: list(false),
    conanfile: text,
    conanfileTruncated: conanfile !== undefined && conanfile.size > MAX_CONANFILE_BYTES,
    metadataFiles: list(true),
  });
}

/** The first `length` bytes of a blob as text (a cut multi-byte character becomes U+FFFD). */
async function readText(service: ConanService, blobKey: string, length: number): Promise<string> {
  const { body } = await service.blobs.get(blobKey, { start: 0, end: length - 1 });
  const decoder = new TextDecoder('utf-8');
  let text = '';
  let read = 0;
  for await (const chunk of body as unknown as AsyncIterable<Uint8Array>) {
    const take = chunk.subarray(0, Math.max(0, length - read));
    read += take.byteLength;
    text += decoder.decode(take, { stream: true });
    if (read >= length) break;
  }
  return text + decoder.decode();
}

/** `GET .../revisions/{rrev}/packages`: binaries with settings, options and requires from conaninfo.txt. */
export async function revisionPackages(service: ConanService, access: ReadAccess, ref: RecipeRef, revision: string): Promise<Response> {
  const revisionRef = await visibleRevision(access, ref, revision);
  const details = await service.metadata.packageDetails(revisionRef);
  if (!details) throw new ConanError('RECIPE_NOT_FOUND', `Recipe not found: '${formatRecipe(ref)}#${revisionRef.revision}'`);
  return json({
    packages: details.map((d) => {
      const info = parseConaninfo(d.conaninfo ?? '');
      return {
        packageId: d.packageId,
        settings: info.settings,
        options: info.options,
        requires: info.requires,
        revisions: d.revisions.map((r) => ({ ...revisionJson(r), files: r.files })),
      };
    }),
  });
}

/** `GET /api/v1/recipes/{name}/dependents?version=`: readable binaries whose conaninfo.txt requires the recipe. */
export async function recipeDependents(service: ConanService, access: ReadAccess, rawName: string, url: URL): Promise<Response> {
  const name = checkName(rawName);
  const { version } = parseQuery(dependentsQuery, url);
  const rows = await service.metadata.dependents(name, DEPENDENT_ROWS_READ);
  const items = [];
  for (const row of rows) {
    if (version !== undefined && !requiredVersionMatches(row.version, version)) continue;
    if (!(await access.canRead(row.ref))) continue;
    items.push({ reference: formatRecipe(row.ref), revision: row.ref.revision, packageId: row.packageId, requires: row.requires });
    if (items.length === MAX_DEPENDENTS) break;
  }
  return json({ items, truncated: items.length === MAX_DEPENDENTS || rows.length === DEPENDENT_ROWS_READ });
}
