/**
 * Early release of upload chunks. Node allocates each chunk of a request
 * body on its own, and frees it only when the garbage collector next runs;
 * with many uploads in flight, memory grows by the chunks awaiting that
 * (about 80 MiB for 32 concurrent uploads on Node 24). A chunk that only the
 * upload path ever saw can be freed as soon as it is on disk: the bridge
 * says which bodies are such, the request body reader marks their chunks,
 * and a blob store calls {@link releaseChunk} once it has written one.
 *
 * Held in globals keyed by `Symbol.for`, so that copies of core loaded twice
 * (ESM and CommonJS) share them.
 */

interface ReleaseRegistry {
  /** Request bodies whose chunks nobody else reads. */
  sources: WeakSet<object>;
  /** Chunks that may be freed once written. */
  chunks: WeakSet<Uint8Array>;
}

const KEY = Symbol.for('cimmeria.chunkRelease');
const registry: ReleaseRegistry = ((globalThis as Record<symbol, ReleaseRegistry | undefined>)[KEY] ??= {
  sources: new WeakSet(),
  chunks: new WeakSet(),
});

type Transferable = ArrayBuffer & { transfer?: (length?: number) => ArrayBuffer };
const canTransfer = typeof (ArrayBuffer.prototype as Transferable).transfer === 'function';

/**
 * Declares that the chunks `source` yields are read by the caller only
 * (e.g. an `IncomingMessage` nothing else listens to): they may be released
 * once stored.
 */
export function declareChunksOwned(source: object): void {
  if (canTransfer) registry.sources.add(source);
}

/** Whether {@link declareChunksOwned} was called for `source`. */
export function chunksOwned(source: object): boolean {
  return registry.sources.has(source);
}

/** Marks a chunk of an owned source as releasable, if it has its memory to itself. */
export function markReleasable(chunk: Uint8Array): void {
  if (chunk.byteOffset === 0 && chunk.buffer instanceof ArrayBuffer && chunk.buffer.byteLength === chunk.byteLength) {
    registry.chunks.add(chunk);
  }
}

/**
 * Frees the memory of `chunk` now if it was marked releasable (the chunk is
 * empty afterwards); does nothing otherwise. Blob stores call it once a
 * chunk is written and they no longer read it.
 */
export function releaseChunk(chunk: Uint8Array): void {
  if (!registry.chunks.delete(chunk)) return;
  // Detaches the buffer: its memory goes back at once, not at the next collection.
  (chunk.buffer as Transferable).transfer!(0);
}
