/** Thrown by {@link ConcurrencyLimit.run} when every slot is busy and the queue is full. */
export class QueueFullError extends Error {
  constructor() {
    super('Too many operations waiting');
    this.name = 'QueueFullError';
  }
}

/**
 * Runs at most `maxConcurrent` operations at once; up to `maxQueued` more
 * wait their turn, in order. Past that, {@link run} fails at once with
 * {@link QueueFullError} instead of queueing without bound.
 */
export class ConcurrencyLimit {
  private running = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(
    readonly maxConcurrent: number,
    readonly maxQueued: number,
  ) {
    if (!(maxConcurrent >= 1)) throw new RangeError('maxConcurrent must be at least 1');
    if (!(maxQueued >= 0)) throw new RangeError('maxQueued must not be negative');
  }

  /** Operations running now (for tests and metrics). */
  get active(): number {
    return this.running;
  }

  /** Operations waiting for a slot. */
  get queued(): number {
    return this.waiting.length;
  }

  async run<T>(operation: () => Promise<T>): Promise<T> {
    if (this.running >= this.maxConcurrent) {
      if (this.waiting.length >= this.maxQueued) throw new QueueFullError();
      // The slot is handed over by the finishing operation, so `running` never dips in between.
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    } else {
      this.running++;
    }
    try {
      return await operation();
    } finally {
      const next = this.waiting.shift();
      if (next) next();
      else this.running--;
    }
  }
}
