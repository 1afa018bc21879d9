import type { Hash } from 'node:crypto';
import { addAbortSignal, Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  type Digest,
  type DigestAlgorithm,
  digestAlgorithm,
  digestOf,
  newHash,
  parseDigest,
} from '../../oci/digest.ts';
import type { BlobStore, ByteRange, UploadArea } from '../blob-store.ts';
import {
  BlobNotFoundError,
  DigestMismatchError,
  SizeMismatchError,
  UploadNotFoundError,
  UploadOffsetError,
} from '../errors.ts';

const UPLOAD_ID = /^[A-Za-z0-9_-]{1,64}$/;
/** open() hands out blobs in chunks of this size, like a file stream would. */
const CHUNK = 64 * 1024;

/**
 * BlobStore in Maps of Buffers: the test double for everything above the storage port. Same
 * contract and errors as the fs driver (the shared suite checks both); it buffers whole blobs,
 * so it is for tests only. Nothing survives the process.
 */
export class MemoryBlobStore implements BlobStore {
  readonly #blobs = new Map<Digest, Buffer>();
  readonly uploads: MemoryUploadArea;

  constructor() {
    this.uploads = new MemoryUploadArea(this.#blobs);
  }

  async stat(digest: Digest, signal?: AbortSignal): Promise<number | undefined> {
    signal?.throwIfAborted();
    return this.#blobs.get(checked(digest))?.length;
  }

  async put(
    expected: Digest,
    body: Readable,
    options: { size?: number; signal?: AbortSignal } = {},
  ): Promise<{ size: number }> {
    const { size, signal } = options;
    signal?.throwIfAborted();
    const chunks: Buffer[] = [];
    const sink = new CollectingSink(chunks, digestAlgorithm(checked(expected)), size);
    await pipeline(body, sink, { signal });
    const bytes = Buffer.concat(chunks);
    if (size !== undefined && bytes.length !== size) throw new SizeMismatchError(size, bytes.length);
    const actual = sink.digest();
    if (actual !== expected) throw new DigestMismatchError(expected, actual);
    signal?.throwIfAborted();
    if (!this.#blobs.has(expected)) this.#blobs.set(expected, stamped(bytes));
    return { size: bytes.length };
  }

  async open(digest: Digest, range?: ByteRange, signal?: AbortSignal): Promise<Readable> {
    signal?.throwIfAborted();
    const bytes = this.#get(digest);
    if (range) checkRange(range);
    // Like fs.createReadStream: an end beyond the blob reads to its last byte.
    const slice = range ? bytes.subarray(range.start, range.end + 1) : bytes;
    const stream = Readable.from(chunked(slice), { objectMode: false });
    return signal ? addAbortSignal(signal, stream) : stream;
  }

  async read(digest: Digest, signal?: AbortSignal): Promise<Buffer> {
    signal?.throwIfAborted();
    // A copy: callers may not change a stored blob through the returned Buffer.
    return Buffer.from(this.#get(digest));
  }

  async delete(digest: Digest, signal?: AbortSignal): Promise<void> {
    signal?.throwIfAborted();
    this.#blobs.delete(checked(digest));
  }

  async probe(signal?: AbortSignal): Promise<void> {
    signal?.throwIfAborted();
  }

  async *list(signal?: AbortSignal): AsyncIterable<{ digest: Digest; size: number; modified: Date }> {
    for (const [digest, bytes] of [...this.#blobs]) {
      signal?.throwIfAborted();
      yield { digest, size: bytes.length, modified: storedAt.get(bytes) ?? new Date() };
    }
  }

  /** Memory keeps no quarantine: the blob is dropped. */
  async quarantine(digest: Digest): Promise<void> {
    this.#blobs.delete(checked(digest));
  }

  /** Nothing is ever half-written in memory. */
  async sweepTemporary(): Promise<number> {
    return 0;
  }

  #get(digest: Digest): Buffer {
    const bytes = this.#blobs.get(checked(digest));
    if (!bytes) throw new BlobNotFoundError(digest);
    return bytes;
  }
}

interface Upload {
  chunks: Buffer[];
  size: number;
  modified: Date;
}

/** Appends and finishes on one id run one at a time, in call order, as in the fs driver. */
export class MemoryUploadArea implements UploadArea {
  readonly #uploads = new Map<string, Upload>();
  readonly #tails = new Map<string, Promise<void>>();

  constructor(private readonly blobs: Map<Digest, Buffer>) {}

  async start(id: string, signal?: AbortSignal): Promise<void> {
    if (!UPLOAD_ID.test(id)) throw new RangeError(`"${id.slice(0, 80)}" is not an upload id`);
    signal?.throwIfAborted();
    if (this.#uploads.has(id)) throw new Error(`upload ${id} exists already`);
    this.#uploads.set(id, { chunks: [], size: 0, modified: new Date() });
  }

  async size(id: string, signal?: AbortSignal): Promise<number | undefined> {
    signal?.throwIfAborted();
    return this.#uploads.get(id)?.size;
  }

  append(
    id: string,
    body: Readable,
    options: { offset: number; maxBytes?: number; signal?: AbortSignal },
  ): Promise<{ size: number }> {
    return this.#serialised(id, options.signal, async () => {
      const upload = this.#get(id);
      if (upload.size !== options.offset) throw new UploadOffsetError(id, upload.size, options.offset);
      // Chunks land in the upload as they arrive, so a body that fails midway leaves them there.
      const sink = new CollectingSink(upload.chunks, undefined, options.maxBytes, (n) => {
        upload.size += n;
        upload.modified = new Date();
      });
      await pipeline(body, sink, { signal: options.signal });
      return { size: upload.size };
    });
  }

  finish(id: string, expected: Digest, signal?: AbortSignal): Promise<{ size: number }> {
    return this.#serialised(id, signal, async () => {
      const upload = this.#get(id);
      const bytes = Buffer.concat(upload.chunks);
      upload.chunks.splice(0, upload.chunks.length, bytes);
      const actual = digestOf(bytes, digestAlgorithm(checked(expected)));
      if (actual !== expected) throw new DigestMismatchError(expected, actual);
      signal?.throwIfAborted();
      if (!this.blobs.has(expected)) this.blobs.set(expected, stamped(bytes));
      this.#uploads.delete(id);
      return { size: bytes.length };
    });
  }

  async cancel(id: string, signal?: AbortSignal): Promise<void> {
    signal?.throwIfAborted();
    this.#uploads.delete(id);
  }

  async *list(signal?: AbortSignal): AsyncIterable<{ id: string; modified: Date }> {
    for (const [id, upload] of [...this.#uploads]) {
      signal?.throwIfAborted();
      yield { id, modified: upload.modified };
    }
  }

  #get(id: string): Upload {
    const upload = this.#uploads.get(id);
    if (!upload) throw new UploadNotFoundError(id);
    return upload;
  }

  /** Per-id promise chain; a caller whose signal aborted before its turn came does not run. */
  async #serialised<T>(id: string, signal: AbortSignal | undefined, task: () => Promise<T>): Promise<T> {
    const previous = this.#tails.get(id) ?? Promise.resolve();
    let release = (): void => undefined;
    const done = new Promise<void>((resolve) => {
      release = resolve;
    });
    const tail = previous.then(() => done);
    this.#tails.set(id, tail);
    try {
      await previous;
      signal?.throwIfAborted();
      return await task();
    } finally {
      release();
      if (this.#tails.get(id) === tail) this.#tails.delete(id);
    }
  }
}

/**
 * Keeps chunks (up to `limit` bytes in all, then fails with SizeMismatchError) and hashes them
 * when given an algorithm. `onTaken` sees each accepted byte count as it arrives.
 */
class CollectingSink extends Writable {
  readonly #hash: Hash | undefined;
  #taken = 0;

  constructor(
    private readonly chunks: Buffer[],
    private readonly algorithm: DigestAlgorithm | undefined,
    private readonly limit: number | undefined,
    private readonly onTaken: (bytes: number) => void = () => undefined,
  ) {
    super();
    this.#hash = algorithm && newHash(algorithm);
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    const room = this.limit === undefined ? chunk.length : Math.max(0, this.limit - this.#taken);
    const part = room < chunk.length ? chunk.subarray(0, room) : chunk;
    if (part.length > 0) {
      this.chunks.push(Buffer.from(part));
      this.#hash?.update(part);
      this.#taken += part.length;
      this.onTaken(part.length);
    }
    if (this.limit !== undefined && part.length < chunk.length) {
      callback(new SizeMismatchError(this.limit, this.#taken + chunk.length - part.length));
    } else {
      callback();
    }
  }

  digest(): string {
    return `${this.algorithm}:${this.#hash?.digest('hex')}`;
  }
}

function* chunked(bytes: Buffer): Generator<Buffer> {
  for (let start = 0; start < bytes.length; start += CHUNK) yield bytes.subarray(start, start + CHUNK);
}

/** A cast string is not a digest: refused as the fs driver refuses it (DIGEST_INVALID). */
function checked(digest: Digest): Digest {
  return parseDigest(digest);
}

function checkRange({ start, end }: ByteRange): void {
  if (!Number.isSafeInteger(start) || !Number.isSafeInteger(end) || start < 0 || end < start) {
    throw new RangeError(`bytes ${start}-${end} is not a byte range`);
  }
}

/** When each stored blob's bytes were written (the fs driver's file mtime). */
const storedAt = new WeakMap<Buffer, Date>();

function stamped(bytes: Buffer): Buffer {
  storedAt.set(bytes, new Date());
  return bytes;
}
