import type { Readable } from 'node:stream';
import type { Digest } from '../oci/digest.ts';

/** Inclusive byte range, as in HTTP `Range: bytes=start-end`. */
export interface ByteRange {
  start: number;
  end: number;
}

/**
 * Content-addressed bytes, one copy per digest for the whole instance.
 *
 * Guarantees every implementation gives (checked by test/storage/blob-store-suite.ts):
 * - A blob is visible (stat/open) only when all its bytes are durable and hash to its digest;
 *   nothing ever exposes a partially written blob, whatever moment the process dies at.
 * - Bytes are hashed while they stream in; whole blobs are never buffered in memory.
 * - Absence is reported with `undefined` (stat) or BlobNotFoundError (open, read); other
 *   failures are the driver's own errors and mean the store is unwell, not that the client erred.
 * - Every method honours `signal`: an aborted call stops its work and rejects, and leaves no
 *   visible blob and no temporary file behind.
 */
export interface BlobStore {
  /** Size in bytes, or undefined when the blob is absent. */
  stat(digest: Digest, signal?: AbortSignal): Promise<number | undefined>;

  /**
   * Streams `body` into the store while hashing it with the digest's algorithm. Resolves after
   * the bytes are durable. Rejects with DigestMismatchError, or SizeMismatchError when `size` is
   * given and the body is longer or shorter, and then stores nothing. Putting a blob that
   * exists already is allowed: it drains and verifies the body and keeps the existing copy.
   */
  put(
    expected: Digest,
    body: Readable,
    options?: { size?: number; signal?: AbortSignal },
  ): Promise<{ size: number }>;

  /** Reads the whole (or the range of the) blob. BlobNotFoundError when absent. */
  open(digest: Digest, range?: ByteRange, signal?: AbortSignal): Promise<Readable>;

  /** Whole blob in memory: only for small blobs such as manifests. BlobNotFoundError when absent. */
  read(digest: Digest, signal?: AbortSignal): Promise<Buffer>;

  /** Removes the blob; absent blobs are not an error. Used by garbage collection only. */
  delete(digest: Digest, signal?: AbortSignal): Promise<void>;

  /**
   * Every blob with its size and when its bytes were last written, in no particular order. For
   * garbage collection (which keeps blobs written within its grace period) and fsck.
   */
  list(signal?: AbortSignal): AsyncIterable<{ digest: Digest; size: number; modified: Date }>;

  /**
   * Moves a blob that fails its digest out of the store, keeping its bytes for inspection (fsck
   * --repair); afterwards it is absent. Absent blobs are not an error.
   */
  quarantine(digest: Digest): Promise<void>;

  /** Removes temporary files of puts a crash interrupted, last written before `before`; returns how many. */
  sweepTemporary(before: Date): Promise<number>;

  /**
   * Readiness: resolves when the store can take writes now, rejects with the driver's error
   * when it cannot. Called by every `GET /readyz`, so it must cost little (no scan).
   */
  probe(signal?: AbortSignal): Promise<void>;

  readonly uploads: UploadArea;
}

/**
 * Resumable uploads that become blobs. Upload ids are chosen by the caller (unguessable,
 * `[A-Za-z0-9_-]{1,64}`). Upload data lives in the store, so an upload survives a restart
 * of the process.
 */
export interface UploadArea {
  /** Creates an empty upload. Creating an id twice is an error. */
  start(id: string, signal?: AbortSignal): Promise<void>;

  /** Bytes received so far, or undefined when there is no such upload. */
  size(id: string, signal?: AbortSignal): Promise<number | undefined>;

  /**
   * Appends `body` at `offset`, which must equal the current size (UploadOffsetError otherwise,
   * carrying the current size). With `maxBytes`, a body longer than that is rejected with
   * SizeMismatchError. When the body fails or is aborted midway, the bytes that did arrive stay
   * appended and the upload remains usable; the resolved value and `size()` tell where it ends.
   * UploadNotFoundError when absent.
   */
  append(
    id: string,
    body: Readable,
    options: { offset: number; maxBytes?: number; signal?: AbortSignal },
  ): Promise<{ size: number }>;

  /**
   * Turns the upload into the blob `expected`: verifies the digest (the running sha256 hash
   * when the process kept it, else a re-read), makes it durable and visible, and removes the
   * upload. DigestMismatchError leaves the upload in place so the client can still fix it;
   * UploadNotFoundError when absent.
   */
  finish(id: string, expected: Digest, signal?: AbortSignal): Promise<{ size: number }>;

  /** Discards the upload; an absent upload is not an error. */
  cancel(id: string, signal?: AbortSignal): Promise<void>;

  /** Every upload with the time it last received bytes, for cleaning up abandoned uploads. */
  list(signal?: AbortSignal): AsyncIterable<{ id: string; modified: Date }>;
}
