/** Errors a BlobStore driver throws. The registry layer maps them to OCI codes in one place. */
export class BlobNotFoundError extends Error {
  override readonly name = 'BlobNotFoundError';
  constructor(readonly digest: string) {
    super(`blob ${digest} is not in the store`);
  }
}

export class DigestMismatchError extends Error {
  override readonly name = 'DigestMismatchError';
  constructor(
    readonly expected: string,
    readonly actual: string,
  ) {
    super(`content hashes to ${actual}, not ${expected}`);
  }
}

export class SizeMismatchError extends Error {
  override readonly name = 'SizeMismatchError';
  constructor(
    readonly expected: number,
    readonly actual: number,
  ) {
    super(`content is ${actual} bytes, not the ${expected} announced`);
  }
}

export class UploadNotFoundError extends Error {
  override readonly name = 'UploadNotFoundError';
  constructor(readonly id: string) {
    super(`upload ${id} is not in progress`);
  }
}

/** An append that does not start where the upload currently ends. `size` is the current end. */
export class UploadOffsetError extends Error {
  override readonly name = 'UploadOffsetError';
  constructor(
    readonly id: string,
    readonly size: number,
    readonly offset: number,
  ) {
    super(`upload ${id} has ${size} bytes; a chunk starting at ${offset} does not follow on`);
  }
}
