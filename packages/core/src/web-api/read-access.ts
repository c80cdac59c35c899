import type { Principal } from '../auth/principal.js';
import { formatRecipe, type RecipeRef } from '../reference/references.js';
import type { ConanService } from '../service/conan-service.js';
import { ConanError } from '../service/errors.js';

/**
 * The Conan API's read permission, for one caller: checks are remembered
 * per recipe for the request (a listing asks about the same recipe often),
 * and skipped when the caller reads everything.
 */
export class ReadAccess {
  private readonly known = new Map<string, boolean>();
  private everything: Promise<boolean> | undefined;

  constructor(
    private readonly service: ConanService,
    readonly principal: Principal | undefined,
  ) {}

  /** The caller may read every recipe (listings then page in the database). */
  readsEverything(): Promise<boolean> {
    this.everything ??= this.service.readsEverything(this.principal);
    return this.everything;
  }

  async canRead(ref: RecipeRef): Promise<boolean> {
    if (await this.readsEverything()) return true;
    const key = formatRecipe(ref);
    let allowed = this.known.get(key);
    if (allowed === undefined) {
      allowed = await this.service.canRead(this.principal, ref);
      this.known.set(key, allowed);
    }
    return allowed;
  }

  /** As the Conan API answers: anonymous callers get 401 (log in), users 403; the recipe is named only as the caller wrote it. */
  async require(ref: RecipeRef): Promise<void> {
    if (await this.canRead(ref)) return;
    throw this.principal
      ? new ConanError('FORBIDDEN', `Permission denied: '${this.principal.name}' may not read '${formatRecipe(ref)}'`)
      : new ConanError('UNAUTHORIZED', `Login required to read '${formatRecipe(ref)}'`);
  }
}
