import { randomUUID } from 'node:crypto';
import { lstat, mkdir, open, readdir, rename, rm, stat, unlink, type FileHandle } from 'node:fs/promises';
import { dirname, join, relative, sep } from 'node:path';
import { Readable } from 'node:stream';
import {
  BlobNotFoundError,
  releaseChunk,
  type AbandonedUploadsReport,
  type BlobRead,
  type BlobStat,
  type BlobStore,
  type ByteRange,
} from '@cimmeria/core';

const KEY_PATTERN = /^[a-z0-9][a-z0-9/_-]*$/;
const TEMP_DIR = '.tmp';
/**
 * Blobs are private to the account running the server, whatever its umask:
 * other local accounts must not read packages they may have no permission
 * for. Existing folders keep the mode their operator gave them.
 */
const DIR_MODE = 0o700;
const FILE_MODE = 0o600;

/**
 * Errors that mean "no blob under this key": nothing there (ENOENT), a
 * shorter key's file where a folder would be (ENOTDIR), or the folder of
 * longer keys (EISDIR; EPERM on macOS for unlink).
 */
const MISSING = new Set(['ENOENT', 'ENOTDIR', 'EISDIR']);
const isMissing = (error: unknown) => MISSING.has((error as NodeJS.ErrnoException).code ?? '');

/**
 * Uploads are written with one write in flight at a time: the parts that
 * arrive meanwhile go out together in the next `writev`. A slow disk thus
 * gets fewer, larger writes; received bytes never wait for more to come
 * (a stalled client's bytes are on disk). Reading pauses while this many
 * bytes wait behind the write in flight, which bounds what an upload holds.
 */
const WRITE_BATCH_BYTES = 256 * 1024;
/** Well under IOV_MAX (1024), whatever the size of the parts. */
const WRITE_BATCH_PARTS = 64;

/** Writes `body` to `handle`, one write in flight at a time; resolves with the byte count. */
async function writeBatched(handle: FileHandle, body: AsyncIterable<Uint8Array>): Promise<number> {
  let batch: Uint8Array[] = [];
  let batched = 0;
  let size = 0;
  // Never rejects: a failure is kept in `failure` and thrown by the loop.
  let writing: Promise<void> | undefined;
  let failure: { error: unknown } | undefined;
  const startWrite = () => {
    const parts = batch;
    batch = [];
    batched = 0;
    writing = writeAll(handle, parts).then(
      () => {
        writing = undefined;
        if (batch.length > 0 && !failure) startWrite();
      },
      (error: unknown) => {
        failure ??= { error };
        writing = undefined;
      },
    );
  };
  try {
    for await (const chunk of body) {
      if (failure) throw failure.error;
      batch.push(chunk);
      batched += chunk.byteLength;
      size += chunk.byteLength;
      if (!writing) startWrite();
      while (writing && (batched >= WRITE_BATCH_BYTES || batch.length >= WRITE_BATCH_PARTS)) await writing;
    }
    while (writing) await writing;
    if (failure) throw failure.error;
  } finally {
    // Never close the file under a write still running (the body failed meanwhile).
    while (writing) await writing;
  }
  return size;
}

async function writeAll(handle: FileHandle, parts: Uint8Array[]): Promise<void> {
  const total = parts.reduce((sum, part) => sum + part.byteLength, 0);
  const { bytesWritten } = await handle.writev(parts);
  // A short write (rare on files): write the rest part by part.
  let skip = bytesWritten;
  for (const part of skip === total ? [] : parts) {
    if (skip >= part.byteLength) {
      skip -= part.byteLength;
      continue;
    }
    let rest = part.subarray(skip);
    skip = 0;
    while (rest.byteLength > 0) {
      const written = await handle.write(rest);
      rest = rest.subarray(written.bytesWritten);
    }
  }
  // Written: the memory of chunks only the upload read goes back now rather than at the next collection.
  parts.forEach(releaseChunk);
}

/** Options of {@link FsBlobStore}. */
export interface FsBlobStoreOptions {
  /** Directory holding the blobs; created if missing. */
  directory: string;
}

/**
 * Blobs as files under a directory. Writes go to a temporary file first and
 * are renamed into place, so a blob is there whole or not at all. Folders it
 * creates are 0700 and files 0600. A process killed mid-upload leaves its
 * temporary file in `.tmp/`: {@link FsBlobStore.removeAbandonedUploads}
 * removes those (garbage collection calls it).
 */
export class FsBlobStore implements BlobStore {
  readonly directory: string;

  constructor(options: FsBlobStoreOptions) {
    this.directory = options.directory;
  }

  private pathOf(key: string): string {
    if (!KEY_PATTERN.test(key) || key.split('/').some((s) => s === '' || s === '.' || s === '..')) {
      throw new Error(`Invalid blob key: ${key}`);
    }
    return join(this.directory, ...key.split('/'));
  }

  async put(key: string, body: AsyncIterable<Uint8Array>): Promise<BlobStat> {
    const target = this.pathOf(key);
    const temp = join(this.directory, TEMP_DIR, randomUUID());
    await mkdir(dirname(temp), { recursive: true, mode: DIR_MODE });
    let size: number;
    try {
      const handle = await open(temp, 'wx', FILE_MODE);
      try {
        size = await writeBatched(handle, body);
      } finally {
        await handle.close();
      }
      await mkdir(dirname(target), { recursive: true, mode: DIR_MODE });
      await rename(temp, target);
    } catch (error) {
      await rm(temp, { force: true });
      throw error;
    }
    return { size };
  }

  async get(key: string, range?: ByteRange): Promise<BlobRead> {
    const path = this.pathOf(key);
    // Open first, then ask the open file its size: a rename over the key in
    // between would otherwise pair one blob's size with another's bytes.
    let handle;
    try {
      handle = await open(path, 'r');
    } catch (error) {
      if (isMissing(error)) throw new BlobNotFoundError(key);
      throw error;
    }
    let size: number;
    try {
      const info = await handle.stat();
      if (!info.isFile()) throw new BlobNotFoundError(key);
      size = info.size;
    } catch (error) {
      await handle.close();
      throw error;
    }
    const stream = handle.createReadStream(range ? { start: range.start, end: range.end } : {});
    return { body: Readable.toWeb(stream) as ReadableStream<Uint8Array>, size };
  }

  /** The blob's file, for hosts that send files themselves (see {@link BlobStore.localFile}). */
  async localFile(key: string): Promise<{ path: string; size: number } | undefined> {
    const path = this.pathOf(key);
    try {
      const info = await stat(path);
      return info.isFile() ? { path, size: info.size } : undefined;
    } catch (error) {
      if (isMissing(error)) return undefined;
      throw error;
    }
  }

  async stat(key: string): Promise<BlobStat | undefined> {
    const file = await this.localFile(key);
    return file && { size: file.size };
  }

  async delete(key: string): Promise<void> {
    const path = this.pathOf(key);
    try {
      await unlink(path);
    } catch (error) {
      if (isMissing(error)) return;
      // macOS says EPERM when unlinking a folder: a folder of longer keys is no blob.
      if ((error as NodeJS.ErrnoException).code === 'EPERM' && (await stat(path).catch(() => undefined))?.isDirectory()) return;
      throw error;
    }
  }

  async *list(prefix = ''): AsyncIterable<{ key: string; size: number; lastModified: Date }> {
    let entries;
    try {
      entries = await readdir(this.directory, { recursive: true, withFileTypes: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw error;
    }
    for (const entry of entries) {
      if (!entry.isFile()) continue;
      const full = join(entry.parentPath, entry.name);
      const key = relative(this.directory, full).split(sep).join('/');
      if (key.startsWith(`${TEMP_DIR}/`) || !key.startsWith(prefix)) continue;
      const info = await stat(full).catch(() => undefined);
      if (info) yield { key, size: info.size, lastModified: info.mtime };
    }
  }

  /**
   * Removes the temporary files of uploads that never finished, last written
   * before `olderThan` (a running upload keeps writing to its file, so it
   * stays younger). With `dryRun`, only counts them.
   */
  async removeAbandonedUploads(olderThan: Date, options: { dryRun?: boolean } = {}): Promise<AbandonedUploadsReport> {
    const report: AbandonedUploadsReport = { removed: 0, bytes: 0, failed: [] };
    const tempDir = join(this.directory, TEMP_DIR);
    let names: string[];
    try {
      names = await readdir(tempDir);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return report;
      throw error;
    }
    const cutoff = olderThan.getTime();
    for (const name of names) {
      const path = join(tempDir, name);
      try {
        const info = await lstat(path);
        if (!info.isFile() || info.mtimeMs >= cutoff) continue;
        if (!options.dryRun) await unlink(path);
        report.removed += 1;
        report.bytes += info.size;
      } catch (error) {
        // Gone meanwhile: its upload finished (renamed into place) or another run removed it.
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') continue;
        report.failed.push({ id: `${TEMP_DIR}/${name}`, message: (error as Error).message });
      }
    }
    return report;
  }

  async ping(): Promise<void> {
    await mkdir(this.directory, { recursive: true, mode: DIR_MODE });
  }
}
