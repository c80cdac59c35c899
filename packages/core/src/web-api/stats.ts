import { formatRecipe } from '../reference/references.js';
import type { ConanService } from '../service/conan-service.js';
import { formatTime, json } from '../http/responses.js';
import type { ReadAccess } from './read-access.js';

/** Most recent publications listed. */
export const RECENT_LIMIT = 20;
/** Most publications looked at to find readable ones: a caller who reads little gets fewer, not a slow answer. */
const RECENT_SCAN = 1000;
const RECENT_PAGE = 100;

/**
 * `GET /api/v1/stats`. Totals are counted over everything, so they are
 * given only to callers who may read every recipe (`null` for others: a
 * count would tell how much they cannot see); the recent publications are
 * the readable ones.
 */
export async function stats(service: ConanService, access: ReadAccess): Promise<Response> {
  const everything = await access.readsEverything();
  const totals = everything ? await service.metadata.totals() : undefined;
  const recent: Array<{ reference: string; revision: string; time: string }> = [];
  let before: number | undefined;
  for (let scanned = 0; scanned < RECENT_SCAN && recent.length < RECENT_LIMIT; scanned += RECENT_PAGE) {
    const page = await service.metadata.recentRecipeRevisions(everything ? RECENT_LIMIT : RECENT_PAGE, before);
    for (const entry of page) {
      if (!(await access.canRead(entry.ref))) continue;
      recent.push({ reference: formatRecipe(entry.ref), revision: entry.ref.revision, time: formatTime(entry.timeMicros) });
      if (recent.length === RECENT_LIMIT) break;
    }
    if (page.length < (everything ? RECENT_LIMIT : RECENT_PAGE)) break;
    before = page[page.length - 1]!.timeMicros;
  }
  return json({
    recipes: totals?.recipes ?? null,
    revisions: totals?.revisions ?? null,
    binaries: totals?.binaries ?? null,
    bytes: totals?.bytes ?? null,
    recent,
  });
}
