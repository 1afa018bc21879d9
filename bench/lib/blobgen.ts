import { createHash, randomBytes } from 'node:crypto';

import { MiB } from './stats.ts';

// One MiB of random bytes made once per process; every generated blob is this block repeated with
// the seed and block number stamped into its first 16 bytes, so no two blocks (and no two blobs)
// are equal, nothing compresses, and any byte range can be regenerated on demand without keeping
// the blob in memory.
const BLOCK = MiB;
const base = randomBytes(BLOCK);

function block(seed: number, index: number): Buffer {
  const out = Buffer.allocUnsafe(BLOCK);
  base.copy(out);
  out.writeUInt32BE(seed >>> 0, 0);
  out.writeUInt32BE(index >>> 0, 4);
  out.writeDoubleBE(seed * 1e6 + index, 8);
  return out;
}

/** A deterministic blob of `size` bytes identified by `seed`. */
export interface GeneratedBlob {
  seed: number;
  size: number;
  digest: string;
}

/** Yields the bytes [start, end) of the blob in pieces of at most 1 MiB. */
export function* blobBytes(seed: number, size: number, start = 0, end = size): Generator<Buffer> {
  let offset = start;
  while (offset < Math.min(end, size)) {
    const index = Math.floor(offset / BLOCK);
    const blockStart = index * BLOCK;
    const stop = Math.min(end, size, blockStart + BLOCK);
    const whole = block(seed, index);
    yield offset === blockStart && stop === blockStart + BLOCK
      ? whole
      : whole.subarray(offset - blockStart, stop - blockStart);
    offset = stop;
  }
}

const digests = new Map<string, string>();

/** Computes the digest in a first pass over the generator (cached per process). */
export function generateBlob(seed: number, size: number): GeneratedBlob {
  const key = `${seed}:${size}`;
  let digest = digests.get(key);
  if (!digest) {
    const hash = createHash('sha256');
    for (const piece of blobBytes(seed, size)) hash.update(piece);
    digest = `sha256:${hash.digest('hex')}`;
    digests.set(key, digest);
  }
  return { seed, size, digest };
}

/** A small in-memory blob with its digest (for the many-small-blobs scenarios). */
export function smallBlob(size: number): { body: Buffer; digest: string } {
  const body = randomBytes(size);
  return { body, digest: `sha256:${createHash('sha256').update(body).digest('hex')}` };
}

export function sha256(data: Buffer | string): string {
  return `sha256:${createHash('sha256').update(data).digest('hex')}`;
}
