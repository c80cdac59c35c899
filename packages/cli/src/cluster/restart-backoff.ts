/** Options of {@link RestartBackoff}. */
export interface RestartBackoffOptions {
  /** Delay before restarting after the first unexpected exit in a while. */
  initialMs?: number;
  /** The delay doubles with each exit in `windowMs`, up to this. */
  maxMs?: number;
  /** Exits older than this no longer lengthen the delay. */
  windowMs?: number;
}

/**
 * How long to wait before replacing a worker that exited: short for a rare
 * crash, doubling while workers keep dying (a bug hit by every request, a
 * database gone), so a failing worker is not restarted in a tight loop.
 */
export class RestartBackoff {
  readonly #initialMs: number;
  readonly #maxMs: number;
  readonly #windowMs: number;
  #exits: number[] = [];

  constructor({ initialMs = 500, maxMs = 30_000, windowMs = 60_000 }: RestartBackoffOptions = {}) {
    this.#initialMs = initialMs;
    this.#maxMs = maxMs;
    this.#windowMs = windowMs;
  }

  /** Records an exit at `now` and returns the delay before its replacement starts. */
  next(now = Date.now()): number {
    this.#exits = this.#exits.filter((at) => now - at < this.#windowMs);
    this.#exits.push(now);
    return Math.min(this.#maxMs, this.#initialMs * 2 ** (this.#exits.length - 1));
  }
}
