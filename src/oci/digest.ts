import { createHash, type Hash } from 'node:crypto';
import { OciError } from './errors.ts';

/** A validated `algorithm:hex` content digest. Only lowercase hex is a digest; sha256 and sha512. */
export type Digest = string & { readonly __digest: unique symbol };

export const DIGEST_ALGORITHMS = { sha256: 64, sha512: 128 } as const;
export type DigestAlgorithm = keyof typeof DIGEST_ALGORITHMS;

const DIGEST_SHAPE = /^([a-z0-9]+(?:[+._-][a-z0-9]+)*):([a-zA-Z0-9=_-]+)$/;

/** Parses a digest or throws DIGEST_INVALID saying what is wrong with it. */
export function parseDigest(value: string): Digest {
  const m = DIGEST_SHAPE.exec(value);
  if (!m)
    throw new OciError('DIGEST_INVALID', `"${clip(value)}" is not a digest; expected sha256:<64 hex digits>`);
  const algorithm = m[1] as string;
  const hex = m[2] as string;
  const length = DIGEST_ALGORITHMS[algorithm as DigestAlgorithm];
  if (length === undefined) {
    throw new OciError(
      'DIGEST_INVALID',
      `digest algorithm "${clip(algorithm)}" is not supported; use sha256 or sha512`,
    );
  }
  if (hex.length !== length || !/^[0-9a-f]+$/.test(hex)) {
    throw new OciError('DIGEST_INVALID', `${algorithm} digest must be ${length} lowercase hex digits`);
  }
  return value as Digest;
}

export function isDigest(value: string): boolean {
  try {
    parseDigest(value);
    return true;
  } catch {
    return false;
  }
}

export function digestAlgorithm(digest: Digest): DigestAlgorithm {
  return digest.slice(0, digest.indexOf(':')) as DigestAlgorithm;
}

export function digestHex(digest: Digest): string {
  return digest.slice(digest.indexOf(':') + 1);
}

export function newHash(algorithm: DigestAlgorithm): Hash {
  return createHash(algorithm);
}

export function digestOf(bytes: Uint8Array, algorithm: DigestAlgorithm = 'sha256'): Digest {
  return `${algorithm}:${createHash(algorithm).update(bytes).digest('hex')}` as Digest;
}

export function clip(value: string, max = 80): string {
  return value.length > max ? `${value.slice(0, max)}…` : value;
}
