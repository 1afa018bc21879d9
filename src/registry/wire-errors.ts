import { DomainError, type DomainErrorKind } from '../domain/errors.ts';
import { BlobCollectedError } from '../meta/gc-store.ts';
import { MissingReferencesError, UnknownRepositoryError } from '../meta/metadata-store.ts';
import { bounded, type OciCode, OciError } from '../oci/errors.ts';
import {
  BlobNotFoundError,
  DigestMismatchError,
  SizeMismatchError,
  UploadNotFoundError,
  UploadOffsetError,
} from '../storage/errors.ts';

/**
 * Domain error kinds as OCI codes on /v2. A refused gate or rule and a conflict with the state
 * are DENIED, as the spec has no conflict code; a domain not-found on /v2 is about a repository.
 */
export const OCI_CODE_OF_KIND = {
  // The spec's table has no general "bad request": UNSUPPORTED with 400, the message says what.
  invalid: 'UNSUPPORTED',
  'not-found': 'NAME_UNKNOWN',
  conflict: 'DENIED',
  refused: 'DENIED',
  forbidden: 'DENIED',
  unauthenticated: 'UNAUTHORIZED',
  'rate-limited': 'TOOMANYREQUESTS',
  'too-large': 'SIZE_INVALID',
} as const satisfies Record<DomainErrorKind, OciCode>;

/**
 * The one boundary where errors of the lower layers become wire errors. Anything not listed is
 * a fault of ours: UNKNOWN (500), logged with its stack, never shown to the client.
 */
export function toOciError(error: unknown): { error: OciError; internal: boolean } {
  if (error instanceof OciError) return { error, internal: false };
  if (error instanceof DomainError) {
    return {
      error: new OciError(
        OCI_CODE_OF_KIND[error.kind],
        error.message,
        error.detail,
        undefined,
        error.kind === 'invalid' ? 400 : undefined,
      ),
      internal: false,
    };
  }
  if (error instanceof DigestMismatchError) {
    return {
      error: new OciError('DIGEST_INVALID', error.message, { expected: error.expected }),
      internal: false,
    };
  }
  if (error instanceof SizeMismatchError)
    return { error: new OciError('SIZE_INVALID', error.message), internal: false };
  if (error instanceof BlobNotFoundError)
    return { error: new OciError('BLOB_UNKNOWN', error.message), internal: false };
  if (error instanceof UploadNotFoundError) {
    return { error: new OciError('BLOB_UPLOAD_UNKNOWN', error.message), internal: false };
  }
  if (error instanceof UploadOffsetError) {
    const range = `0-${Math.max(0, error.size - 1)}`;
    return {
      // The spec's answer to a chunk that does not follow on: 416, and Range says where to go on.
      error: new OciError('BLOB_UPLOAD_INVALID', error.message, { size: error.size }, { Range: range }, 416),
      internal: false,
    };
  }
  if (error instanceof MissingReferencesError) {
    const { first, count, more } = bounded(error.missing);
    const listed = first.map((m) => m.digest).join(', ') + (more > 0 ? ` and ${more} more` : '');
    return {
      error: new OciError('MANIFEST_BLOB_UNKNOWN', `references not held by this name: ${listed}`, {
        missing: first,
        count,
      }),
      internal: false,
    };
  }
  if (error instanceof BlobCollectedError) {
    return {
      error: new OciError('BLOB_UPLOAD_INVALID', error.message, { digest: error.digest }),
      internal: false,
    };
  }
  if (error instanceof UnknownRepositoryError) {
    return {
      error: new OciError('NAME_UNKNOWN', `${error.message}; it was deleted meanwhile`),
      internal: false,
    };
  }
  const fastifyError = error as { statusCode?: number; code?: string; message?: string };
  if (typeof fastifyError.statusCode === 'number' && fastifyError.statusCode < 500) {
    // Requests fastify refuses before a handler runs (e.g. a URL it cannot decode).
    const status = fastifyError.statusCode === 404 ? 404 : 400;
    return {
      error: new OciError(
        'UNSUPPORTED',
        `request refused: ${fastifyError.message}`,
        undefined,
        undefined,
        status,
      ),
      internal: false,
    };
  }
  return { error: new OciError('UNKNOWN'), internal: true };
}
