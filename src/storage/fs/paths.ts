/**
 * On-disk layout of the fs BlobStore driver. Paths under the root are built here and nowhere else.
 *
 *   <root>/
 *     blobs/
 *       sha256/
 *         ab/
 *           abcdef0123…      one file per blob, named by its full hex digest; read-only once there
 *         cd/ …              fan-out directory = first two hex digits (≤ 256 entries per level)
 *       sha512/
 *         ab/abcdef0123…     same shape
 *     uploads/
 *       <id>                 bytes received so far for upload <id>; renamed into blobs/ by finish
 *     tmp/
 *       <uuid>               a put in progress; renamed into blobs/ once verified and fsynced
 *     quarantine/
 *       <alg>-<hex>-<ms>     a blob fsck found corrupt, moved out of blobs/ by `fsck --repair`
 *
 * uploads/ and tmp/ live under the same root as blobs/ so that the final rename() stays on one
 * file system and is atomic: a blob file is either absent or complete, never partial.
 * Upload ids are validated before they become a path, so no id can escape uploads/.
 */
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import {
  DIGEST_ALGORITHMS,
  type Digest,
  type DigestAlgorithm,
  digestAlgorithm,
  digestHex,
  parseDigest,
} from '../../oci/digest.ts';

const ALGORITHMS = Object.keys(DIGEST_ALGORITHMS) as DigestAlgorithm[];
const UPLOAD_ID = /^[A-Za-z0-9_-]{1,64}$/;

export function isUploadId(id: string): boolean {
  return UPLOAD_ID.test(id);
}

export class FsPaths {
  readonly blobs: string;
  readonly uploads: string;
  readonly tmp: string;
  readonly quarantine: string;

  constructor(readonly root: string) {
    this.quarantine = path.join(root, 'quarantine');
    this.blobs = path.join(root, 'blobs');
    this.uploads = path.join(root, 'uploads');
    this.tmp = path.join(root, 'tmp');
  }

  /** Every directory that must exist before the store is used. */
  skeleton(): string[] {
    return [this.blobs, ...ALGORITHMS.map((a) => this.algorithmDir(a)), this.uploads, this.tmp];
  }

  /** The algorithms that have a directory under blobs/. */
  get algorithms(): readonly DigestAlgorithm[] {
    return ALGORITHMS;
  }

  algorithmDir(algorithm: DigestAlgorithm): string {
    return path.join(this.blobs, algorithm);
  }

  /** blobs/<algorithm>/<fanOut>, for walking the tree; `fanOut` comes from a readdir of it. */
  fanOutDir(algorithm: DigestAlgorithm, fanOut: string): string {
    return path.join(this.algorithmDir(algorithm), path.basename(fanOut));
  }

  /** The fan-out directory holding the blob; the blob's rename target lives in it. */
  blobDir(digest: Digest): string {
    // Re-checked although Digest is a branded type: a cast string must not become a path.
    parseDigest(digest);
    return path.join(this.algorithmDir(digestAlgorithm(digest)), digestHex(digest).slice(0, 2));
  }

  blob(digest: Digest): string {
    return path.join(this.blobDir(digest), digestHex(digest));
  }

  /**
   * The digest stored at blobs/<algorithm>/<fanOut>/<name>, or undefined for a stray file
   * (wrong length, uppercase, fan-out not matching) that list() must skip.
   */
  digestAt(algorithm: DigestAlgorithm, fanOut: string, name: string): Digest | undefined {
    if (name.slice(0, 2) !== fanOut || name.length !== DIGEST_ALGORITHMS[algorithm]) return undefined;
    if (!/^[0-9a-f]+$/.test(name)) return undefined;
    return `${algorithm}:${name}` as Digest;
  }

  /** Throws RangeError for an id outside `[A-Za-z0-9_-]{1,64}`. */
  upload(id: string): string {
    if (!isUploadId(id)) throw new RangeError(`"${id.slice(0, 80)}" is not an upload id`);
    return path.join(this.uploads, id);
  }

  /** A fresh, unique name in tmp/ for one put. */
  newTempFile(): string {
    return path.join(this.tmp, randomUUID());
  }
}
