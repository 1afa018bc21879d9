/**
 * File primitives of the fs BlobStore driver: the hashing write sink, the durable commit
 * (fsync, rename, fsync the directory), re-hashing a file, and the per-upload queue.
 * Paths come from paths.ts; nothing here builds one.
 */
import type { Hash } from 'node:crypto';
import fs, { type FileHandle } from 'node:fs/promises';
import { type Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { type Digest, type DigestAlgorithm, digestAlgorithm, newHash } from '../../oci/digest.ts';
import { SizeMismatchError } from '../errors.ts';
import type { FsPaths } from './paths.ts';

/** Bytes written so far and their hash; `hash` undefined means "not tracked, re-read later". */
export interface Tally {
  hash: Hash | undefined;
  size: number;
}

/**
 * Writes chunks to `file` (or nowhere, to only verify) while hashing and counting them. The tally
 * covers exactly the bytes on disk: its size grows only after a write succeeded, and a failed
 * write drops its hash (hashing overlaps the write, so the hash may have seen the failed bytes).
 * Beyond `limit` bytes it writes up to the limit and fails with SizeMismatchError.
 */
export class HashingSink extends Writable {
  #written = 0;
  #pending: Promise<void> = Promise.resolve();

  constructor(
    private readonly tally: Tally,
    private readonly options: { file?: FileHandle; limit?: number | undefined },
  ) {
    // Chunks that arrive during a write queue up to this much and are written together by
    // _writev; it also bounds how far past a `limit` the body is read before the error.
    super({ highWaterMark: 256 * 1024 });
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.#pending = this.#take(chunk);
    this.#pending.then(() => callback(), callback);
  }

  override _writev(chunks: { chunk: Buffer }[], callback: (error?: Error | null) => void): void {
    this.#pending = this.#take(Buffer.concat(chunks.map((c) => c.chunk)));
    this.#pending.then(() => callback(), callback);
  }

  /** Settles once no write is in flight; pipeline() may reject (abort) before that. */
  idle(): Promise<void> {
    return this.#pending.catch(() => undefined);
  }

  async #take(chunk: Buffer): Promise<void> {
    const { file, limit } = this.options;
    const room = limit === undefined ? chunk.length : Math.max(0, limit - this.#written);
    const part = room < chunk.length ? chunk.subarray(0, room) : chunk;
    if (part.length > 0) {
      const writing = file ? writeAll(file, part) : Promise.resolve();
      this.tally.hash?.update(part); // on this thread while the write runs on the thread pool
      try {
        await writing;
      } catch (error) {
        this.tally.hash = undefined;
        throw error;
      }
      this.tally.size += part.length;
      this.#written += part.length;
    }
    if (limit !== undefined && part.length < chunk.length) {
      throw new SizeMismatchError(limit, this.#written + chunk.length - part.length);
    }
  }
}

/** Runs pipeline(body → sink) and returns only once the sink has no write in flight. */
export async function drainInto(
  body: Readable,
  sink: HashingSink,
  signal: AbortSignal | undefined,
): Promise<void> {
  try {
    await pipeline(body, sink, { signal });
  } finally {
    await sink.idle();
  }
}

export async function writeAll(file: FileHandle, bytes: Buffer): Promise<void> {
  let offset = 0;
  while (offset < bytes.length) {
    const { bytesWritten } = await file.write(bytes, offset, bytes.length - offset, null);
    offset += bytesWritten;
  }
}

/**
 * Makes the verified, fsynced file `source` the blob `digest`: rename into place, then fsync the
 * directory so the new entry survives a crash. When the blob exists already, the existing file
 * is kept and `source` removed. The last chance to abort is before the rename; on any failure
 * `source` is left where it was, for the caller to remove or keep.
 */
export async function commitFile(
  paths: FsPaths,
  source: string,
  digest: Digest,
  signal?: AbortSignal,
): Promise<void> {
  signal?.throwIfAborted();
  const dir = paths.blobDir(digest);
  const created = await fs.mkdir(dir, { recursive: true });
  const target = paths.blob(digest);
  if (await exists(target)) {
    await fs.rm(source, { force: true });
    return;
  }
  await fs.rename(source, target);
  await syncDir(dir);
  // A new fan-out directory is itself a new entry in its parent.
  if (created) await syncDir(paths.algorithmDir(digestAlgorithm(digest)));
}

export async function hashFile(
  file: FileHandle,
  size: number,
  algorithm: DigestAlgorithm,
  signal?: AbortSignal,
): Promise<string> {
  const hash = newHash(algorithm);
  const buffer = Buffer.allocUnsafe(Math.min(size, 1 << 20));
  for (let position = 0; position < size; ) {
    signal?.throwIfAborted();
    const { bytesRead } = await file.read(buffer, 0, Math.min(buffer.length, size - position), position);
    if (bytesRead === 0) break;
    hash.update(buffer.subarray(0, bytesRead));
    position += bytesRead;
  }
  return hash.digest('hex');
}

export async function syncDir(dir: string): Promise<void> {
  const handle = await fs.open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

export async function exists(file: string): Promise<boolean> {
  return fs.stat(file).then(
    () => true,
    (error: unknown) => {
      if (hasCode(error, 'ENOENT')) return false;
      throw error;
    },
  );
}

export async function readdirOrEmpty(dir: string): Promise<string[]> {
  try {
    return await fs.readdir(dir);
  } catch (error) {
    if (hasCode(error, 'ENOENT') || hasCode(error, 'ENOTDIR')) return [];
    throw error;
  }
}

export function hasCode(error: unknown, code: string): boolean {
  return error instanceof Error && (error as NodeJS.ErrnoException).code === code;
}

/**
 * Runs tasks one at a time per key, in the order run() was called. A caller whose signal aborts
 * while it waits leaves the queue without running its task.
 */
export class KeyedQueue {
  readonly #tails = new Map<string, Promise<void>>();

  async run<T>(key: string, signal: AbortSignal | undefined, task: () => Promise<T>): Promise<T> {
    const previous = this.#tails.get(key) ?? Promise.resolve();
    let release = (): void => undefined;
    const done = new Promise<void>((resolve) => {
      release = resolve;
    });
    const tail = previous.then(() => done);
    this.#tails.set(key, tail);
    try {
      await untilAborted(previous, signal);
      return await task();
    } finally {
      release();
      if (this.#tails.get(key) === tail) this.#tails.delete(key);
    }
  }
}

function untilAborted(promise: Promise<void>, signal: AbortSignal | undefined): Promise<void> {
  if (!signal) return promise;
  signal.throwIfAborted();
  return new Promise((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    });
  });
}
