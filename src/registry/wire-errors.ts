import { MissingReferencesError, UnknownRepositoryError } from '../meta/metadata-store.ts';
import { bounded, OciError } from '../oci/errors.ts';
import {
  BlobNotFoundError,
  DigestMismatchError,
  SizeMismatchError,
  UploadNotFoundError,
  UploadOffsetError,
} from '../storage/errors.ts';

/**
 * The one boundary where errors of the lower layers become wire errors. Anything not listed is
 * a fault of ours: UNKNOWN (500), logged with its stack, never shown to the client.
 */
export function toOciError(error: unknown): { error: OciError; internal: boolean } {
  if (error instanceof OciError) return { error, internal: false };
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
