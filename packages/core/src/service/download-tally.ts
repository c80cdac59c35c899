import type { DownloadCount, MetadataStore } from '../metadata/metadata-store.js';

/** Options of {@link DownloadTally}. */
export interface DownloadTallyOptions {
  /** How long counts wait in memory before one flush writes them (default 5000 ms). */
  flushAfterMs?: number;
  /** Distinct counters held before a flush is started at once (default 1000): bounds memory. */
  maxPending?: number;
}

/**
 * Counts downloads in memory and adds them to the store's per-revision,
 * per-day counters in one transaction every few seconds, so a download
 * costs no database write on its own path. Counts not yet flushed are lost
 * if the process dies: download counts are statistics, not the audit trail.
 * The day is the UTC day of this process's clock.
 */
export class DownloadTally {
  private pending = new Map<string, DownloadCount>();
  private timer: ReturnType<typeof setTimeout> | undefined;
  private flushing: Promise<void> = Promise.resolve();
  private readonly flushAfterMs: number;
  private readonly maxPending: number;

  constructor(
    private readonly store: Pick<MetadataStore, 'addDownloads'>,
    options: DownloadTallyOptions = {},
  ) {
    this.flushAfterMs = options.flushAfterMs ?? 5000;
    this.maxPending = options.maxPending ?? 1000;
  }

  /** Counts one download of a revision (`ref` as `conan list` prints it). */
  add(kind: 'recipe' | 'package', ref: string): void {
    const day = new Date().toISOString().slice(0, 10);
    const key = `${day} ${kind} ${ref}`;
    const entry = this.pending.get(key);
    if (entry) entry.count += 1;
    else this.pending.set(key, { kind, ref, day, count: 1 });
    if (this.pending.size >= this.maxPending) void this.flush();
    else if (this.timer === undefined) {
      // A timer only while counts wait, so an idle registry holds none; unref'd, so it never keeps a process alive.
      this.timer = setTimeout(() => void this.flush(), this.flushAfterMs);
      this.timer.unref?.();
    }
  }

  /** Writes the pending counts now; resolves once they (and any earlier flush) are written or dropped. */
  flush(): Promise<void> {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    const counts = [...this.pending.values()];
    this.pending = new Map();
    // Flushes run one after another; a failed one drops its counts rather than retry forever.
    this.flushing = this.flushing.then(() => (counts.length === 0 ? undefined : this.store.addDownloads(counts).catch(() => undefined)));
    return this.flushing;
  }
}
